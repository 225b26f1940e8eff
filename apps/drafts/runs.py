"""The worker side of drafts: the preview job (renditions of a new or revised draft)."""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage

from apps.core.jobs import (
    DATABASE_GONE,
    Claim,
    PhaseTimer,
    ProgressReporter,
    job_claim,
    job_fail,
    job_finish,
    job_release,
)
from apps.core.storage import STORAGE_ERRORS, storage_put
from apps.drafts.models import PreviewJob, Rendition
from apps.drafts.storage_keys import rendition_key
from workers.renditions import DEFAULT_SPECS, render_renditions

logger = logging.getLogger(__name__)


def draft_preview_run(*, job_id: int) -> Claim:
    """Make the draft's renditions. Idempotent: keys depend on the draft's content only."""
    job, claim = job_claim(PreviewJob, job_id)
    if job is None or not claim.claimed:
        return claim
    draft = job.draft
    report = ProgressReporter(job)
    timer = PhaseTimer(job)
    try:
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
                report(0.7 + 0.3 * (index + 1) / len(renditions), "Storing previews")
    except FileNotFoundError:
        job_fail(job, "Could not make previews: the original file is missing from storage.")
        return Claim(False)
    except STORAGE_ERRORS as exc:
        # Retryable: put the row back in the queue; the task retries it after a pause and the
        # attempt cap still applies.
        logger.warning("preview job %s: storage unavailable (%s), will retry", job_id, exc)
        job_release(job, f"Storage unavailable, retrying: {exc}")
        return Claim(False, retry_in=30.0)
    except DATABASE_GONE:
        raise  # job_task_run gives the row back and retries
    except Exception as exc:
        logger.exception("preview job %s failed", job_id)
        job_fail(job, f"Could not make previews: {exc}")
        return Claim(False)
    job_finish(job, output_key=draft.file_key, message="Previews ready")
    logger.info("preview job %s done timings=%s", job_id, job.timings)
    return claim
