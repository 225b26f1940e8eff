from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import Job
from apps.drafts.models import Draft


class UpscaleJob(Job):
    """One upscale of one kept draft (gpu queue). Status moves as ``JobStatus`` describes.

    Requested: ``model_name`` and ``scale`` (``fit_channel`` names the channel, or the preset
    slug, whose preset set the scale of a "fit the largest target channel" request). Filled by
    the worker: the model that really ran (the classical fallback when the weights are
    missing), its weights' SHA-256, the output size and ``output_key`` — deterministic in
    (draft content, model, scale, weights), so a repeated job finds its file and does nothing.
    """

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="upscale_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_name = models.CharField(max_length=40)
    scale = models.FloatField()
    # As long as a preset slug: a campaign can target a preset by its slug.
    fit_channel = models.CharField(max_length=40, blank=True)
    used_model = models.CharField(max_length=40, blank=True)
    model_label = models.CharField(max_length=100, blank=True)
    neural = models.BooleanField(default=False)
    weights_sha256 = models.CharField(max_length=64, blank=True)
    output_width = models.PositiveIntegerField(null=True, blank=True)
    output_height = models.PositiveIntegerField(null=True, blank=True)
    output_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # The published file's own hash: exports and packs key their outputs by the master's SHA-256.
    output_sha256 = models.CharField(max_length=64, blank=True)
    notes = models.JSONField(default=list, blank=True)
    # The run's tiling: tile, batch, tiles, processed_ratio (network input pixels per image
    # pixel, per pass), out-of-memory recoveries. Empty for a reused file.
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["draft", "status"])]

    def __str__(self) -> str:
        return (
            f"upscale of draft {self.draft_id} ({self.model_name} ×{self.scale:g}): {self.status}"
        )

    @property
    def scale_label(self) -> str:
        return f"×{self.scale:g}"
