from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from apps.campaigns.models import Campaign
from apps.drafts.models import Draft
from apps.exports.models import Pack


class LinkState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class ShareLink(models.Model):
    """A link for someone without an account: a set of drafts (or a pack's drafts), for a
    while, with chosen rights. Only the SHA-256 of the random token is stored, so a database
    leak hands out no working links; the token is shown once, to the person who made it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="share_links")
    pack = models.ForeignKey(
        Pack, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links"
    )
    drafts = models.ManyToManyField(Draft, related_name="share_links")
    title = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=128, blank=True)
    can_comment = models.BooleanField(default=True)
    can_approve = models.BooleanField(default=True)
    can_download = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def state(self, now: datetime) -> LinkState:
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.expires_at <= now:
            return LinkState.EXPIRED
        return LinkState.ACTIVE

    @property
    def rights(self) -> list[str]:
        rights = ["view"]
        if self.can_comment:
            rights.append("comment")
        if self.can_approve:
            rights.append("approve / request changes")
        if self.can_download:
            rights.append("download")
        return rights


class Verdict(models.TextChoices):
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    COMMENT = "comment", "Comment"


class ClientApproval(models.Model):
    """A guest's answer on one draft through a share link: written once, never edited. The
    guest's name and e-mail are what they typed; the link says who let them in."""

    link = models.ForeignKey(
        ShareLink, null=True, on_delete=models.SET_NULL, related_name="answers"
    )
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="client_approvals")
    guest_name = models.CharField(max_length=120)
    guest_email = models.EmailField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} by {self.guest_name}"

    def as_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "label": self.get_verdict_display(),
            "by": self.guest_name,
            "email": self.guest_email,
            "comment": self.comment,
            "at": self.created_at.isoformat(),
            "link": self.link.title if self.link else None,
        }
