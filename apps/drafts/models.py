from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.campaigns.models import Campaign
from apps.core.models import Job


class Decision(models.TextChoices):
    UNDECIDED = "", "Undecided"
    KEEP = "keep", "Keep"
    REGENERATE = "regenerate", "Regenerate"
    REJECT = "reject", "Reject"


class Batch(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="upload")  # upload | import | api
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name


class Draft(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="drafts")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="drafts")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # The stored original under a generated key; the uploaded name is display text only.
    file_key = models.CharField(max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    mode = models.CharField(max_length=10)
    bit_depth = models.PositiveSmallIntegerField(default=8)
    has_alpha = models.BooleanField(default=False)
    has_icc = models.BooleanField(default=False)
    icc_description = models.CharField(max_length=200, blank=True)
    exif_orientation = models.PositiveSmallIntegerField(default=1)

    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    generator = models.CharField(max_length=100, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    metadata_sources = models.JSONField(default=list, blank=True)
    # Every sampler of a multi-pass graph (hires fix, refiner, regional prompts), each with its
    # label, prompts, model and seed; empty for single-pass files. See workers.genmeta.
    generation_passes = models.JSONField(default=list, blank=True)
    # Derived from the generation text at intake (apps.drafts.search): the words the grid's
    # search matches, and the key that stacks drafts of one prompt.
    search_document = models.TextField(blank=True, default="", editable=False)
    prompt_key = models.CharField(max_length=16, blank=True, default="", editable=False)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    decision = models.CharField(
        max_length=12, choices=Decision.choices, default=Decision.UNDECIDED, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A decision waiting for an art director's sign-off (the campaign's review settings say
    # which decisions need one). It does not count until signed off, so ``decision`` above only
    # ever holds a decision that counts: downstream work (upscales) may trust it.
    proposed_decision = models.CharField(
        max_length=12, choices=Decision.choices, default=Decision.UNDECIDED, blank=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    # Number of the current file: 1 is the upload, each edit (DraftRevision) adds one.
    revision = models.PositiveSmallIntegerField(default=1)
    # A rejected or regenerated draft kept to guide the next batch of generations.
    is_reference = models.BooleanField(default=False)
    reference_note = models.CharField(max_length=500, blank=True)
    reference_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reference_marked_at = models.DateTimeField(null=True, blank=True)
    # The batch it guides; empty until the campaign's next batch receives its first draft.
    reference_batch = models.ForeignKey(
        "Batch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reference_drafts",
    )

    class Meta:
        ordering = ["batch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sha256"], name="one_copy_per_campaign")
        ]
        indexes = [
            models.Index(fields=["batch", "decision"]),
            models.Index(fields=["campaign", "decision"]),
            # The grid pages through a batch in id order: an index scan, not a sort of it all.
            models.Index(fields=["batch", "id"]),
            # Stacks: drafts of one prompt in a batch.
            models.Index(fields=["batch", "prompt_key"]),
            # Search: seed:123 across a campaign.
            models.Index(fields=["campaign", "seed"]),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def megapixels(self) -> float:
        return round(self.width * self.height / 1_000_000, 2)

    @property
    def awaiting_sign_off(self) -> bool:
        return bool(self.proposed_decision)

    @property
    def status_label(self) -> str:
        """What the review screen shows as the current decision."""
        if self.proposed_decision:
            return f"{Decision(self.proposed_decision).label} (awaiting sign-off)"
        return str(self.get_decision_display())

    @property
    def status_class(self) -> str:
        return self.proposed_decision or self.decision or "undecided"


class DraftRevision(models.Model):
    """One file a draft has had. Number 1 is the upload; each edit (a retouched file) adds the
    next number. The draft's own file fields always describe its newest revision; these rows
    keep the history, so earlier files stay viewable and comparable."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField()
    file_key = models.CharField(max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    mode = models.CharField(max_length=10)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["draft_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="one_revision_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.draft_id} r{self.number}"


class DraftReference(models.Model):
    """A reference the generator used: a URL, or a file stored beside the draft."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="references")
    url = models.URLField(max_length=1000, blank=True)
    file_key = models.CharField(max_length=300, blank=True)
    name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.url


class Rendition(models.Model):
    """A browser-sized copy of a draft; one per (draft, name), so a re-run overwrites nothing."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="renditions")
    name = models.CharField(max_length=20)
    file_key = models.CharField(max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=50)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "name"], name="one_rendition_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.draft_id}:{self.name}"


class PreviewJob(Job):
    """Makes the preview renditions of one draft after intake (default queue)."""

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="preview_job")

    def __str__(self) -> str:
        return f"preview of draft {self.draft_id}: {self.status}"


class SavedFilter(models.Model):
    """A search a person keeps for one campaign: a name and the query text (the grid's query
    language, apps.drafts.search)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign", "name"], name="one_saved_filter_per_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
