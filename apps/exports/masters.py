"""Which file the channel versions are rendered from.

Exports, packs and records all ask ``master_for(draft)``, the one place that chooses: the
newest finished upscale when the draft has one, else the draft's original. Nothing else in
exports chooses; the ``Master`` it returns carries the file, its upright size, its SHA-256,
where it came from and a label for people. Exports read upscales; upscales never import
exports (they announce a finished upscale through ``apps.upscales.hooks``).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.drafts.models import Draft
from apps.upscales.selectors import done_upscales_by_draft
from workers.provenance import Provenance


@dataclass(frozen=True)
class Master:
    file_key: str
    width: int  # upright pixels
    height: int
    sha256: str
    format: str
    source: str  # "original" or "upscaled"
    label: str  # for people: "Original upload", "Real-ESRGAN x4plus ×4"…
    upscale_model: str = ""
    upscale_weights_sha256: str = ""
    upscale_factor: int = 1

    @property
    def is_upscaled(self) -> bool:
        return self.source == "upscaled"

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "label": self.label,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "upscale_model": self.upscale_model or None,
            "upscale_weights_sha256": self.upscale_weights_sha256 or None,
            "upscale_factor": self.upscale_factor,
        }


def original_master(draft: Draft) -> Master:
    return Master(
        file_key=draft.file_key,
        width=draft.width,
        height=draft.height,
        sha256=draft.sha256,
        format=draft.format,
        source="original",
        label="Original upload",
    )


def master_for(draft: Draft) -> Master:
    """The best master of a draft: the finished upscale when there is one, else the original.

    The newest finished upscale wins. Output keys include the master's SHA-256, so exports of
    the original stay valid and new ones render from the upscale.
    """
    upscale = done_upscales_by_draft([draft.pk]).get(draft.pk)
    if upscale is None or not upscale.output_key or not upscale.output_sha256:
        return original_master(draft)
    return Master(
        file_key=upscale.output_key,
        width=upscale.output_width or round(draft.width * upscale.scale),
        height=upscale.output_height or round(draft.height * upscale.scale),
        sha256=upscale.output_sha256,
        format="PNG",
        source="upscaled",
        label=f"{upscale.model_label or upscale.used_model} ×{upscale.scale:g}",
        upscale_model=upscale.used_model,
        upscale_weights_sha256=upscale.weights_sha256,
        upscale_factor=max(1, round(upscale.scale)),
    )


def draft_provenance(draft: Draft, master: Master) -> Provenance:
    """What the record says about the files made from ``master``: generator and model, whether
    the image was edited after generation (a second revision), the upscale that made the
    master. Channel details are added per file (``Provenance.with_channel``)."""
    return Provenance(
        title=draft.original_name,
        generator=draft.generator,
        model=draft.model_name,
        edited=draft.revisions.count() > 1,
        upscale_model=master.upscale_model if master.is_upscaled else "",
        upscale_weights_sha256=master.upscale_weights_sha256 if master.is_upscaled else "",
        upscale_scale=float(master.upscale_factor) if master.is_upscaled else None,
    )
