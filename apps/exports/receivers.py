"""What exports does when another app announces something (registered in
``ExportsConfig.ready()``); the announcing apps never import exports."""

from __future__ import annotations

import logging

from apps.drafts.models import Draft
from apps.exports.runs import export_render_in_memory
from apps.exports.services import export_queue, focal_ensure
from apps.upscales.hooks import UpscaleFinished

logger = logging.getLogger(__name__)


def export_after_upscale(event: UpscaleFinished) -> None:
    """ "Upscale and export": render the channel versions from the new master. In the GPU
    worker the upscaled picture is still in memory, so render from it instead of storing,
    fetching and decoding it again; otherwise queue an ordinary export (which may refuse)."""
    if not event.then_export:
        return
    if event.image is None:
        export_queue(draft=event.job.draft, by=event.by)
        return
    draft = Draft.objects.select_related("campaign").get(pk=event.job.draft_id)
    export_render_in_memory(draft=draft, image=event.image, by=event.by)


def export_focal_propose(draft: Draft) -> None:
    """The preview job has made the renditions: propose the focal rectangle from saliency now,
    so the sheet and the crop editor only read."""
    focal_ensure(draft=draft)
