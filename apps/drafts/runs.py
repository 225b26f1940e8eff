"""The worker side of drafts: the preview job (renditions of a new or revised draft)."""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage

from apps.core.jobs import DATABASE_GONE, Claim, job_running
from apps.core.storage import STORAGE_ERRORS, STORAGE_RETRYING, storage_put
from apps.core.storage_keys import rendition_key
from apps.drafts.hooks import previews_ready
from apps.drafts.models import Draft, PreviewJob, Rendition
from workers.renditions import DEFAULT_SPECS, render_renditions

logger = logging.getLogger(__name__)


def _previews_ready(job_id: int, draft: Draft) -> None:
    try:
        previews_ready(draft)
    except DATABASE_GONE:
        raise
    except Exception:
        # The previews are made; a listener (the focal proposal) must not fail them, and the
        # export job proposes the focal rectangle itself when none is stored.
        logger.exception("preview job %s: a listener of the finished previews failed", job_id)


def draft_preview_run(*, job_id: int) -> Claim:
    """Make the draft's renditions. Idempotent: keys depend on the draft's content only."""
    with job_running(
        PreviewJob,
        job_id,
        failure="Could not make previews: {exc}",
        expected={
            FileNotFoundError: "Could not make previews: the original file is missing from storage."
        },
        # Storage down is retryable: the row goes back in the queue and the task tries again.
        retry={STORAGE_ERRORS: STORAGE_RETRYING},
    ) as run:
        if not run.claimed:
            return run.result
        job, report, timer = run.job, run.report, run.timer
        draft = job.draft
        with timer.phase("read"), default_storage.open(draft.file_key, "rb") as fh:
            data = fh.read()
        report(0.2, "Decoding", force=True)
        with timer.phase("render"):
            renditions = render_renditions(data, DEFAULT_SPECS)
        report(0.7, "Storing previews", force=True)
        with timer.phase("store"):
            for index, rendition in enumerate(renditions):
                ext = "." + rendition.format.lower()
                key = rendition_key(
                    campaign_id=draft.campaign_id,
                    draft_id=draft.pk,
                    name=rendition.name,
                    sha256=draft.sha256,
                    ext=ext,
                )
                storage_put(key, rendition.data)
                Rendition.objects.update_or_create(
                    draft=draft,
                    name=rendition.name,
                    defaults={
                        "file_key": key,
                        "width": rendition.width,
                        "height": rendition.height,
                        "content_type": rendition.content_type,
                    },
                )
                report(0.7 + 0.9 * 0.3 * (index + 1) / len(renditions), "Storing previews")
        report(0.97, "Finding the subject", force=True)
        with timer.phase("listeners"):
            _previews_ready(job_id, draft)
        run.finish(output_key=draft.file_key, message="Previews ready")
    return run.result
