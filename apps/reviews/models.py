from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.drafts.models import Decision, Draft


class Criterion(models.TextChoices):
    CONCEPT = "concept", "Concept"
    PRODUCT_ACCURACY = "product_accuracy", "Product accuracy"
    COMPOSITION = "composition", "Composition"
    BRAND_FIT = "brand_fit", "Brand fit"
    REQUIREMENTS_FIT = "requirements_fit", "Message, channel & product requirement"
    HARD_TO_REPAIR = "hard_to_repair", "Hard-to-repair areas"


CRITERION_HELP = {
    Criterion.CONCEPT: "Is the idea strong and on brief?",
    Criterion.PRODUCT_ACCURACY: "Is the product shown correctly (shape, label, colour, details)?",
    Criterion.COMPOSITION: "Does the framing work and leave room for the channels?",
    Criterion.BRAND_FIT: "Does it follow the campaign's brand rules?",
    Criterion.REQUIREMENTS_FIT: "Can it carry the key message, the target channels and the "
    "product requirement?",
    Criterion.HARD_TO_REPAIR: "Hands, faces, edges, text and logos, product surfaces.",
}


class Rating(models.TextChoices):
    PASS = "pass", "Pass"
    CONCERN = "concern", "Concern"
    FAIL = "fail", "Fail"


class Review(models.Model):
    """One reviewer's quality check and decision. Reviews are history: never edited."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    decision = models.CharField(max_length=12, choices=[c for c in Decision.choices if c[0]])
    # {criterion: {"rating": "pass"|"concern"|"fail", "note": str}}
    checklist = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    suggested = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} on draft {self.draft_id}"

    @property
    def followed_suggestion(self) -> bool:
        return not self.suggested or self.suggested == self.decision

    def checklist_rows(self) -> list[tuple[str, str, str]]:
        labels = dict(Criterion.choices)
        rows = []
        for key in Criterion.values:
            item = self.checklist.get(key) or {}
            if item.get("rating") or item.get("note"):
                rows.append((str(labels[key]), item.get("rating", ""), item.get("note", "")))
        return rows
