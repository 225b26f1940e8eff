from __future__ import annotations

from django.db import models


class JobStatus(models.TextChoices):
    """Life of a job row.

    queued → running          a worker claimed it (compare-and-swap, attempts + 1)
    running → done            output stored, then the row marked done
    running → failed          a clear error, or the attempt cap was reached
    running → queued          the sweeper found an expired lease (worker lost) and re-published it
    queued | running → cancelled   a person cancelled it; a worker that sees this stops quietly
    failed | cancelled → queued    a person pressed retry
    """

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """Fields every long operation carries; the UI reads these, never Celery's results."""

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.FloatField(default=0.0, help_text="0..1")
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    spec = models.JSONField(default=dict, blank=True, help_text="input parameters of the job")
    output_key = models.CharField(max_length=500, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per phase")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        return round(self.progress * 100)
