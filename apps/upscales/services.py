"""Writes for upscales: requesting (one draft or a batch), cancel and retry. The worker's run
is in ``runs.py``."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.core.jobs import job_create, job_requeue
from apps.core.models import ACTIVE_STATUSES, JobStatus
from apps.drafts.models import Batch, Decision, Draft
from apps.upscales.hooks import UpscaleFinished, upscale_finished
from apps.upscales.models import UpscaleJob
from apps.upscales.selectors import kept_drafts, largest_channel_fit, model_names
from workers.upscale.pipeline import MAX_SCALE
from workers.upscale.registry import UnknownModel

logger = logging.getLogger(__name__)


def _check_model(name: str) -> None:
    # model_names(): the registry's, the imported custom models' and the classical upscaler.
    if name not in model_names():
        raise Refusal(f"Unknown model “{name}”.")


def _resolve_scale(
    draft: Draft, scale: float | None, fit_largest_channel: bool
) -> tuple[float, str]:
    if fit_largest_channel:
        fit = largest_channel_fit(draft)
        if fit is None:
            raise Refusal("This campaign has no target channels to fit.")
        if fit.scale <= 1.0:
            raise Refusal(
                f"{draft.width}×{draft.height} already covers {fit.label} "
                f"({fit.size[0]}×{fit.size[1]}); no upscale is needed."
            )
        return fit.scale, fit.channel
    if scale is None or math.isnan(scale) or not (1.0 < scale <= MAX_SCALE):
        raise Refusal(f"Choose a scale above 1 and at most {MAX_SCALE:g}.")
    return round(scale, 2), ""


def upscale_request(
    *,
    draft: Draft,
    by: User | None,
    model: str,
    scale: float | None = None,
    fit_largest_channel: bool = False,
    then_export: bool = False,
) -> tuple[UpscaleJob, bool]:
    """Queue an upscale of a kept draft. Returns (job, created): an identical request that is
    queued, running or done returns that job instead of a second one."""
    if draft.decision != Decision.KEEP:
        raise Refusal("Only kept drafts can be upscaled.")
    _check_model(model)
    value, channel = _resolve_scale(draft, scale, fit_largest_channel)
    out_pixels = round(draft.width * value) * round(draft.height * value)
    if out_pixels > settings.UPSCALE_MAX_OUTPUT_PIXELS:
        raise Refusal(
            f"×{value:g} would make {out_pixels / 1e6:.0f} MP; the limit is "
            f"{settings.UPSCALE_MAX_OUTPUT_PIXELS / 1e6:.0f} MP."
        )
    with transaction.atomic():
        existing = (
            UpscaleJob.objects.select_for_update(no_key=True)
            .filter(
                draft=draft,
                model_name=model,
                scale=value,
                status__in=[*ACTIVE_STATUSES, JobStatus.DONE],
            )
            .first()
        )
        if existing is not None:
            if then_export and existing.status == JobStatus.DONE:
                # Exports queue the channel versions from the stored master, or refuse.
                upscale_finished(UpscaleFinished(job=existing, by=by, then_export=True))
            elif then_export and not existing.spec.get("then_export"):
                spec = {**existing.spec, "then_export": True}
                UpscaleJob.objects.filter(pk=existing.pk).update(spec=spec)
            return existing, False
        job = job_create(
            UpscaleJob,
            draft=draft,
            requested_by=by,
            model_name=model,
            scale=value,
            fit_channel=channel,
            spec={
                "model": model,
                "scale": value,
                "fit_channel": channel,
                "then_export": then_export,
            },
        )
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="upscale.requested",
            summary=f"Queued {model} ×{value:g} upscale of “{draft.original_name}”",
            target=draft,
            data={"job": job.pk},
        )
    return job, True


@dataclass
class BatchRequestResult:
    queued: int = 0
    existing: int = 0
    refused: list[str] = dataclasses.field(default_factory=list)


def upscale_request_batch(
    *,
    batch: Batch,
    by: User | None,
    model: str,
    scale: float | None = None,
    fit_largest_channel: bool = False,
) -> BatchRequestResult:
    """Queue the same upscale for every kept draft of the batch; each draft stands alone."""
    _check_model(model)
    result = BatchRequestResult()
    for draft in kept_drafts(batch).select_related("campaign"):
        try:
            _job, created = upscale_request(
                draft=draft,
                by=by,
                model=model,
                scale=scale,
                fit_largest_channel=fit_largest_channel,
            )
        except Refusal as exc:
            result.refused.append(f"{draft.original_name}: {exc}")
            continue
        if created:
            result.queued += 1
        else:
            result.existing += 1
    return result


def upscale_cancel(*, job: UpscaleJob, by: User | None) -> bool:
    """Queued or running -> cancelled. A running worker notices at its next progress report."""
    updated = UpscaleJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.CANCELLED,
        message="Cancelled",
        finished_at=timezone.now(),
        lease_expires_at=None,
    )
    if updated:
        audit_record(
            campaign=job.draft.campaign,
            actor=by,
            verb="upscale.cancelled",
            summary=f"Cancelled the upscale of “{job.draft.original_name}”",
            target=job.draft,
            data={"job": job.pk},
        )
    return bool(updated)


def upscale_retry(*, job: UpscaleJob, by: User | None) -> bool:
    """Failed or cancelled -> queued again, with a fresh attempt budget."""
    if job.draft.decision != Decision.KEEP:
        raise Refusal("Only kept drafts can be upscaled.")
    requeued = job_requeue(job, by=by)
    if requeued:
        audit_record(
            campaign=job.draft.campaign,
            actor=by,
            verb="upscale.retried",
            summary=f"Retried the upscale of “{job.draft.original_name}”",
            target=job.draft,
            data={"job": job.pk},
        )
    return requeued


__all__ = [
    "BatchRequestResult",
    "UnknownModel",
    "upscale_cancel",
    "upscale_request",
    "upscale_request_batch",
    "upscale_retry",
]
