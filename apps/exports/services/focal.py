"""Writes for the focal rectangle and crop overrides.

Boxes a person sets (the focal rectangle, crop overrides) are stored in the original draft's
upright pixels, so they survive a new master; they are scaled to the master when rendering.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.drafts.models import Draft
from apps.drafts.selectors import draft_rendition
from apps.exports.masters import master_for
from apps.exports.models import ChannelPreset, CropOverride, FocalArea, FocalSource
from apps.exports.selectors import focal_default_box, focal_for
from workers.focal import Box, detect_focal, fit_box_to_aspect, scale_box

logger = logging.getLogger(__name__)


def _draft_size(draft: Draft) -> tuple[int, int]:
    return draft.width, draft.height


def focal_ensure(*, draft: Draft) -> FocalArea:
    """The draft's focal rectangle, proposed from saliency the first time: by the preview job
    once the renditions exist (``export_focal_propose``), or by an export job for a draft
    older than that. The proposal reads the small preview (the subject is visible at thumbnail
    size). Never called from a GET: pages show ``focal_shown``."""
    existing = focal_for(draft)
    if existing is not None:
        return existing
    rendition = draft_rendition(draft, "thumb") or draft_rendition(draft, "preview")
    key = rendition.file_key if rendition else draft.file_key
    with default_storage.open(key, "rb") as fh:
        data = fh.read()
    try:
        guess = detect_focal(data)
        box = scale_box(guess.box, guess.size, _draft_size(draft))
        confidence = guess.confidence
    except Exception:  # a picture saliency cannot read still gets the middle, unconfirmed
        logger.exception("focal proposal failed for draft %s", draft.pk)
        box = focal_default_box(draft)
        confidence = 0.0
    try:
        with transaction.atomic():
            return FocalArea.objects.create(
                draft=draft,
                x=box.x,
                y=box.y,
                width=box.width,
                height=box.height,
                source=FocalSource.AUTO,
                confidence=confidence,
            )
    except IntegrityError:  # another request proposed it at the same moment
        return FocalArea.objects.get(draft=draft)


@transaction.atomic
def focal_set(*, draft: Draft, box: Box, by: User | None) -> FocalArea:
    """A person confirms or moves the subject rectangle (original draft pixels)."""
    box = box.clamped(*_draft_size(draft))
    if box.width < 2 or box.height < 2:
        raise Refusal("Mark an area of at least 2×2 pixels.")
    focal, _ = FocalArea.objects.update_or_create(
        draft=draft,
        defaults={
            "x": box.x,
            "y": box.y,
            "width": box.width,
            "height": box.height,
            "source": FocalSource.PERSON,
            "confidence": 1.0,
            "set_by": by,
        },
    )
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="export.focal_set",
        summary=f"Set the subject of “{draft.original_name}”",
        target=draft,
        data={"box": box.as_list()},
    )
    return focal


@transaction.atomic
def crop_override_set(
    *, draft: Draft, preset: ChannelPreset, box: Box, by: User | None
) -> CropOverride:
    """A person's crop for one preset, given in the master's pixels; it is locked to the
    preset's aspect ratio and stored in the original's pixels."""
    master = master_for(draft)
    master_size = (master.width, master.height)
    fitted = fit_box_to_aspect(box, master_size, (preset.width, preset.height))
    stored = scale_box(fitted, master_size, _draft_size(draft))
    override, _ = CropOverride.objects.update_or_create(
        draft=draft,
        preset=preset,
        defaults={
            "x": stored.x,
            "y": stored.y,
            "width": stored.width,
            "height": stored.height,
            "set_by": by,
        },
    )
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="export.crop_set",
        summary=f"Set the {preset.name} crop of “{draft.original_name}”",
        target=draft,
        data={"preset": preset.slug, "box": fitted.as_list()},
    )
    return override


@transaction.atomic
def crop_override_clear(*, draft: Draft, preset: ChannelPreset, by: User | None) -> bool:
    deleted, _ = CropOverride.objects.filter(draft=draft, preset=preset).delete()
    if deleted:
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="export.crop_cleared",
            summary=f"Reset the {preset.name} crop of “{draft.original_name}” to automatic",
            target=draft,
        )
    return bool(deleted)
