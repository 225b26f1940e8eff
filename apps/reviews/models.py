from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.campaigns.models import Campaign
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
    # The draft's revision (file) this review judged: an edit sends the draft back into review.
    revision = models.PositiveSmallIntegerField(default=1)
    # The campaign's rule made this decision wait for an art director's sign-off.
    needs_sign_off = models.BooleanField(default=False)
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


class RegionCategory(models.TextChoices):
    HANDS = "hands", "Hands"
    FACE = "face", "Face"
    EDGES = "edges", "Edges"
    PRODUCT_SURFACE = "product_surface", "Product surface"
    TEXT_OR_LOGO = "text_or_logo", "Text or logo"
    BACKGROUND = "background", "Background"
    OTHER = "other", "Other"


class Region(models.Model):
    """A rectangle a reviewer marked on a draft, saved with their review.

    Coordinates are fractions (0..1) of the image as displayed — the file after its EXIF
    orientation — from the top-left corner: ``x``, ``y``, ``w``, ``h``. Fractions survive
    previews, zoom and a same-shaped retouch; ``image_width`` × ``image_height`` is the pixel
    size of the revision it was drawn on, so source pixels are ``x * image_width`` and so on.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="regions")
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="regions")
    revision = models.PositiveSmallIntegerField(default=1)
    image_width = models.PositiveIntegerField()
    image_height = models.PositiveIntegerField()
    category = models.CharField(max_length=20, choices=RegionCategory.choices)
    note = models.CharField(max_length=1000, blank=True)
    x = models.FloatField()
    y = models.FloatField()
    w = models.FloatField()
    h = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["draft_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    x__gte=0, y__gte=0, x__lt=1, y__lt=1, w__gt=0, h__gt=0, w__lte=1, h__lte=1
                ),
                name="region_inside_image",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} on draft {self.draft_id}"

    def pixel_box(self) -> dict[str, int]:
        """The rectangle in source pixels of the revision it was drawn on."""
        left, top = round(self.x * self.image_width), round(self.y * self.image_height)
        right = round((self.x + self.w) * self.image_width)
        bottom = round((self.y + self.h) * self.image_height)
        return {"left": left, "top": top, "width": right - left, "height": bottom - top}


class SignOff(models.Model):
    """An art director made a reviewer's decision count."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="sign_off")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sign-off of review {self.review_id}"


class SignOffRule(models.TextChoices):
    KEEP = "keep", "A keep needs an art director's sign-off"
    ALL = "all", "Every decision needs an art director's sign-off"
    NONE = "none", "No sign-off: a reviewer's decision counts at once"


class ReviewSettings(models.Model):
    """Per-campaign review rules and the product reference image reviewers compare against.
    A campaign without a row uses the defaults (sign-off needed for keep, no reference)."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="review_settings"
    )
    sign_off = models.CharField(max_length=8, choices=SignOffRule.choices, default=SignOffRule.KEEP)
    product_reference_key = models.CharField(max_length=300, blank=True)
    product_reference_name = models.CharField(max_length=255, blank=True)
    product_reference_sha256 = models.CharField(max_length=64, blank=True)
    product_reference_width = models.PositiveIntegerField(null=True, blank=True)
    product_reference_height = models.PositiveIntegerField(null=True, blank=True)
    product_reference_content_type = models.CharField(max_length=50, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review settings"

    def __str__(self) -> str:
        return f"review settings of {self.campaign}"

    def needs_sign_off(self, decision: str) -> bool:
        if self.sign_off == SignOffRule.ALL:
            return True
        return self.sign_off == SignOffRule.KEEP and decision == Decision.KEEP


class ReviewPreferences(models.Model):
    """How one person likes to triage. Without a row, the defaults below apply."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_preferences"
    )
    # After a decision the next undecided draft opens, unless the person prefers to stay.
    stay_after_decision = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "review preferences"

    def __str__(self) -> str:
        return f"review preferences of user {self.user_id}"
