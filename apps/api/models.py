"""Personal access tokens and the answers kept for retried requests (Idempotency-Key)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.campaigns.models import Campaign


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A named token for scripts, acting as its owner with the owner's campaign roles.

    Only the SHA-256 of the secret is stored (the secret is random, 32 bytes, so a fast hash is
    enough); the person sees the secret once, when it is made. ``campaigns`` empty: every
    campaign the owner belongs to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="the start of the secret, for people")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    campaigns = models.ManyToManyField(Campaign, blank=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class IdempotentAnswer(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key``: a retry of the same request
    (same person, key, method and path) gets this answer again instead of acting twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_key_and_person")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"
