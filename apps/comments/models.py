from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.drafts.models import Draft


class Comment(models.Model):
    """A note about a draft, independent of decisions. A comment without ``parent`` opens a
    thread (optionally pinned to a region of the image); replies point at the thread's first
    comment. Only a thread is resolved or reopened.

    A pinned region uses the coordinates of apps.reviews.models.Region: fractions (0..1) of the
    image as displayed, from the top-left, on the revision it was drawn on."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    revision = models.PositiveSmallIntegerField(default=1)
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    w = models.FloatField(null=True, blank=True)
    h = models.FloatField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["draft", "parent", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(x__isnull=True)
                | models.Q(
                    x__gte=0, y__gte=0, x__lt=1, y__lt=1, w__gt=0, h__gt=0, w__lte=1, h__lte=1
                ),
                name="comment_region_inside_image",
            )
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on draft {self.draft_id}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def has_region(self) -> bool:
        return self.x is not None
