from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.campaigns.models import Campaign, Channel
from apps.core.models import Job
from apps.core.provenance import credentials_id
from apps.drafts.models import Draft
from workers.focal import Box, SafeArea
from workers.render import FORMATS, PresetSpec


class ImageFormat(models.TextChoices):
    JPEG = "JPEG", "JPEG"
    WEBP = "WEBP", "WebP"
    PNG = "PNG", "PNG"
    AVIF = "AVIF", "AVIF"


assert tuple(ImageFormat.values) == FORMATS

_margin = [MinValueValidator(0.0), MaxValueValidator(0.45)]


class ChannelPreset(models.Model):
    """One channel's output: data that staff edit in the admin. Editing a preset changes its
    spec hash, so the next export renders anew; earlier files stay keyed by the old hash."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    channel = models.CharField(
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text="The campaign channel this preset serves.",
    )
    width = models.PositiveIntegerField(
        validators=[MinValueValidator(16), MaxValueValidator(12000)]
    )
    height = models.PositiveIntegerField(
        validators=[MinValueValidator(16), MaxValueValidator(12000)]
    )
    format = models.CharField(max_length=4, choices=ImageFormat.choices, default=ImageFormat.JPEG)
    quality = models.PositiveSmallIntegerField(
        default=85, validators=[MinValueValidator(30), MaxValueValidator(100)]
    )
    max_bytes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Quality is lowered step by step to stay under this."
    )
    background = models.CharField(
        max_length=7,
        default="#ffffff",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #ffffff.")],
        help_text="Flatten transparency onto this where the format has no alpha.",
    )
    safe_top = models.FloatField(default=0.0, validators=_margin, help_text="fraction of height")
    safe_right = models.FloatField(default=0.0, validators=_margin, help_text="fraction of width")
    safe_bottom = models.FloatField(default=0.0, validators=_margin, help_text="fraction of height")
    safe_left = models.FloatField(default=0.0, validators=_margin, help_text="fraction of width")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.width}×{self.height})"

    def clean(self) -> None:
        if self.safe_top + self.safe_bottom >= 0.9 or self.safe_left + self.safe_right >= 0.9:
            raise ValidationError("The safe-area margins leave no room for the subject.")

    @property
    def aspect_label(self) -> str:
        from math import gcd

        divisor = gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        value = self.background.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    def spec(self) -> PresetSpec:
        return PresetSpec(
            slug=self.slug,
            width=self.width,
            height=self.height,
            format=self.format,
            quality=self.quality,
            max_bytes=self.max_bytes,
            background=self.background_rgb,
            safe_area=SafeArea(self.safe_top, self.safe_right, self.safe_bottom, self.safe_left),
        )

    def version_hash(self) -> str:
        """What a channel version of this preset is keyed on (its ``spec_hash`` and file key):
        the preset's spec and, while content credentials are on, the signing certificate. So
        turning signing on, or renewing the certificate, renders signed files instead of
        reusing unsigned ones; with signing off the hash is the spec's alone, as it always was."""
        spec_hash = self.spec().spec_hash()
        signer = credentials_id()
        if not signer:
            return spec_hash
        return hashlib.sha256(f"{spec_hash}|c2pa:{signer}".encode()).hexdigest()


class FocalSource(models.TextChoices):
    AUTO = "auto", "Proposed from saliency"
    PERSON = "person", "Set by a person"


class FocalArea(models.Model):
    """The subject of a draft, in the upright original's pixels. Crops keep it in frame."""

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="focal_area")
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=FocalSource.choices)
    confidence = models.FloatField(default=0.0)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"focal of draft {self.draft_id}: {self.box}"

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.width, self.height)


class CropOverride(models.Model):
    """A person's crop for one preset of one draft, in the upright original's pixels."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="crop_overrides")
    preset = models.ForeignKey(ChannelPreset, on_delete=models.CASCADE, related_name="+")
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "preset"], name="one_crop_per_draft_preset")
        ]

    def __str__(self) -> str:
        return f"crop of draft {self.draft_id} for {self.preset_id}"

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.width, self.height)


class ExportJob(Job):
    """Renders a draft's channel versions (default queue). ``spec``: preset ids and the
    master's SHA-256; ``report``: per preset, rendered / reused / too small and why."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export of draft {self.draft_id}: {self.status}"


class ChannelVersion(models.Model):
    """One rendered file. Keyed by (master, preset spec, crop): the same export again reuses
    it, and a changed preset or crop makes a new one next to it."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="channel_versions")
    preset = models.ForeignKey(ChannelPreset, on_delete=models.PROTECT, related_name="+")
    master_sha256 = models.CharField(max_length=64)
    master_source = models.CharField(max_length=20, default="original")
    spec_hash = models.CharField(max_length=64)
    crop_x = models.PositiveIntegerField()
    crop_y = models.PositiveIntegerField()
    crop_width = models.PositiveIntegerField()
    crop_height = models.PositiveIntegerField()
    file_key = models.CharField(max_length=400)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=4, choices=ImageFormat.choices)
    content_type = models.CharField(max_length=40)
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, default="ok")  # ok | over_max_bytes
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["preset__sort_order", "preset_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "draft",
                    "master_sha256",
                    "spec_hash",
                    "crop_x",
                    "crop_y",
                    "crop_width",
                    "crop_height",
                ],
                name="one_version_per_master_spec_crop",
            )
        ]

    def __str__(self) -> str:
        return f"{self.preset_id} of draft {self.draft_id}"

    @property
    def crop(self) -> Box:
        return Box(self.crop_x, self.crop_y, self.crop_width, self.crop_height)


class PackKind(models.TextChoices):
    ZIP = "zip", "Channel pack (zip)"
    DECK = "deck", "Presentation deck (PDF)"


class Pack(Job):
    """A channel pack (zip) or presentation deck (PDF) built as a job; ``output_key`` holds
    the file once done. Packs expire: the sweeper deletes the file and the row."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="packs")
    draft = models.ForeignKey(
        Draft, null=True, blank=True, on_delete=models.CASCADE, related_name="packs"
    )
    kind = models.CharField(max_length=10, choices=PackKind.choices, default=PackKind.ZIP)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    byte_size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        scope = f"draft {self.draft_id}" if self.draft_id else f"campaign {self.campaign_id}"
        return f"{self.get_kind_display()} of {scope}: {self.status}"

    @property
    def filename(self) -> str:
        scope = f"draft-{self.draft_id}" if self.draft_id else f"campaign-{self.campaign_id}"
        ext = "pdf" if self.kind == PackKind.DECK else "zip"
        return f"draftroom-{scope}-{self.kind}-{self.pk}.{ext}"
