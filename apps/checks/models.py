from __future__ import annotations

from django.db import models

from apps.core.models import Job
from apps.drafts.models import Draft


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warn"
    FAIL = "fail", "Fail"


class CheckKind(models.TextChoices):
    RESOLUTION = "resolution", "Resolution for placement"
    CROP = "crop", "Crop fit"
    SOFTNESS = "softness", "Sharpness"
    BLOCKINESS = "blockiness", "Compression"
    NOISE = "noise", "Noise"
    DUPLICATE = "duplicate", "Near-duplicates"
    COLOUR = "colour", "Colour and format"


class CheckJob(Job):
    """Runs the automatic technical checks of one draft after intake (default queue)."""

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="check_job")

    def __str__(self) -> str:
        return f"checks of draft {self.draft_id}: {self.status}"


class CheckResult(models.Model):
    """One check of one draft. A run replaces every row of its draft in one transaction."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="check_results")
    key = models.CharField(max_length=40, help_text="unique per draft, e.g. resolution.hero")
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    label = models.CharField(max_length=80)
    status = models.CharField(max_length=4, choices=CheckStatus.choices)
    value = models.FloatField(null=True, blank=True, help_text="the measured number")
    threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="the fail limit (the warn limit for a check that never fails)",
    )
    value_label = models.CharField(max_length=80, blank=True)
    threshold_label = models.CharField(max_length=80, blank=True)
    explanation = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["draft_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "key"], name="one_check_result_per_key")
        ]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.draft_id}:{self.key}={self.status}"


class CheckSummary(models.Model):
    """Per-draft roll-up the grid sorts and filters on, and the draft's perceptual hash.

    The near-duplicate set is recomputed for the whole campaign whenever a draft's hash is
    stored: ``dup_group`` is the smallest draft id of the set, null for a draft that stands alone.
    """

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="check_summary")
    worst = models.CharField(max_length=4, choices=CheckStatus.choices, db_index=True)
    fail_count = models.PositiveSmallIntegerField(default=0)
    warn_count = models.PositiveSmallIntegerField(default=0)
    problems = models.JSONField(
        default=list, blank=True, help_text="[status, label] of each warn and fail"
    )
    sharpness = models.FloatField(null=True, blank=True)
    blockiness = models.FloatField(null=True, blank=True)
    noise = models.FloatField(null=True, blank=True)
    max_upscale = models.FloatField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True, help_text="64-bit pHash, hex")
    dup_group = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    dup_size = models.PositiveIntegerField(default=1)
    dup_nearest = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "check summaries"

    def __str__(self) -> str:
        return f"checks of draft {self.draft_id}: {self.worst}"

    @property
    def phash_int(self) -> int | None:
        return int(self.phash, 16) if self.phash else None
