from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.campaigns.channels import campaign_channel_labels


class Channel(models.TextChoices):
    """The campaign channels a preset can serve. Only the values: their sizes and the names
    people read are the channel presets' (``apps.campaigns.channels``)."""

    SQUARE = "square"
    SOCIAL = "social"
    VERTICAL = "vertical"
    WIDESCREEN = "widescreen"
    HERO = "hero"
    PRODUCT_CARD = "product_card"
    PRESENTATION = "presentation"


class Role(models.TextChoices):
    CREATOR = "creator", "Creator"
    REVIEWER = "reviewer", "Reviewer"
    ART_DIRECTOR = "art_director", "Art director"
    PRODUCER = "producer", "Producer"


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    brief = models.TextField(blank=True)
    key_message = models.CharField(max_length=500, blank=True)
    product_requirements = models.TextField(blank=True)
    brand_rules = models.JSONField(default=list, blank=True, help_text="a list of short rules")
    target_channels = models.JSONField(default=list, blank=True, help_text="Channel values")
    created_at = models.DateTimeField(auto_now_add=True)
    # Its creator owns it (with staff): edits it, invites people, archives it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns_created",
    )
    # Archived campaigns are read-only everywhere and hidden from lists until restored.
    archived_at = models.DateTimeField(null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="campaigns"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def channel_labels(self) -> list[str]:
        return campaign_channel_labels(self)


class Membership(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="one_membership_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.campaign}"


class AuditEvent(models.Model):
    """Who did what, when: written by services, never edited."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=50)
    summary = models.CharField(max_length=500)
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "-created_at"])]

    def __str__(self) -> str:
        return self.summary


class Invitation(models.Model):
    """An e-mailed invitation to join a campaign with a role.

    Only a hash of its token is stored; the link carries the token signed with a timestamp.
    Status moves once, by compare-and-swap on ``accepted_at``/``revoked_at``:
    pending -> accepted | revoked (an expired one is simply refused)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()} in {self.campaign}"
