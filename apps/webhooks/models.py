"""Webhook endpoints of a campaign and their deliveries (job rows)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.campaigns.models import Campaign
from apps.core.models import Job


class EventType(models.TextChoices):
    DRAFT_CREATED = "draft.created", "A draft was added"
    DRAFT_CHECKED = "draft.checked", "A draft's automatic checks finished"
    REVIEW_DECIDED = "review.decided", "A reviewer decided"
    DRAFT_SIGNED_OFF = "draft.signed_off", "An art director signed a decision off"
    ASSIGNMENT_CREATED = "assignment.created", "Rework was assigned"
    ASSIGNMENT_SUBMITTED = "assignment.submitted", "Rework was handed in"
    UPSCALE_FINISHED = "upscale.finished", "An upscale finished"
    UPSCALE_FAILED = "upscale.failed", "An upscale failed"
    EXPORT_FINISHED = "export.finished", "Channel versions are ready"
    PACK_READY = "pack.ready", "A pack is ready to download"


class WebhookEndpoint(models.Model):
    """Where a campaign's events are sent, signed with ``secret`` the Standard Webhooks way.
    After ``WEBHOOK_PAUSE_AFTER`` failed tries in a row the endpoint is paused (nothing more
    is sent) until an art director resumes it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, help_text="whsec_<base64>")
    events = models.JSONField(default=list, help_text="EventType values")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(Job):
    """One event sent to one endpoint.

    The job kernel's statuses; a failed try goes back to ``queued`` with ``queued_at`` set to
    when the next try is due (exponential backoff) and ``tries`` counted here, so the kernel's
    ``attempts`` keeps counting only lost workers. A redelivery is a new row with the same
    ``event_id`` (receivers deduplicate on ``webhook-id``)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    event_id = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField(default=dict)
    tries = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"
