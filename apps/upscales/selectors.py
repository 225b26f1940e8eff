"""Reads for upscales: permission-scoped getters, the model menu and channel sizing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from apps.campaigns.channels import ChannelTarget, campaign_channel_targets
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import AnyUser, requester_refusal, require_membership
from apps.core.models import ACTIVE_STATUSES, JobStatus
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.selectors import Scoped
from apps.upscales.models import UpscaleJob
from workers.upscale.custom import custom_models
from workers.upscale.registry import CLASSICAL, CLASSICAL_SPEC, MODELS, weights_path

SCALE_CHOICES = (2.0, 3.0, 4.0)


def upscale_job_refusal(job: UpscaleJob) -> str | None:
    """Checked by the worker when it claims the job (see ``register_job_kind``)."""
    campaign_id = Draft.objects.filter(pk=job.draft_id).values_list("campaign_id", flat=True)
    return requester_refusal(
        user_id=job.requested_by_id, campaign_id=campaign_id.get(), need=Can.UPSCALE
    )


def get_upscale_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Scoped[UpscaleJob]:
    job = UpscaleJob.objects.select_related("draft", "draft__campaign", "draft__batch").filter(
        pk=pk
    )
    found = job.first()
    if found is None:
        raise Http404("No such upscale")
    return Scoped(found, require_membership(user, found.draft.campaign_id, need))


def draft_upscales(draft: Draft, *, limit: int = 10) -> list[UpscaleJob]:
    return list(
        draft.upscale_jobs.select_related("requested_by").order_by("-created_at", "-id")[:limit]
    )


def kept_drafts(batch: Batch) -> QuerySet[Draft]:
    return batch.drafts.filter(decision=Decision.KEEP).order_by("id")


def batch_active_count(batch: Batch) -> int:
    return UpscaleJob.objects.filter(draft__batch=batch, status__in=ACTIVE_STATUSES).count()


@dataclass(frozen=True)
class ModelOption:
    name: str
    label: str
    scale: int
    installed: bool


def model_options() -> list[ModelOption]:
    """Every registry model (marked when its weights are in UPSCALE_MODELS_DIR here), the
    custom models staff imported (``upscale_models import-custom``) and the classical
    upscaler, which is always available."""
    options = [
        ModelOption(
            spec.name,
            spec.label,
            spec.scale,
            weights_path(settings.UPSCALE_MODELS_DIR, spec).is_file(),
        )
        for spec in MODELS.values()
    ]
    options += [
        ModelOption(model.name, model.label, model.scale, True)
        for model in custom_models(settings.UPSCALE_MODELS_DIR)
    ]
    options.append(ModelOption(CLASSICAL, CLASSICAL_SPEC.label, 0, True))
    return options


def model_names() -> set[str]:
    """Every name a request may give: the registry's, the imported custom models', classical."""
    return {option.name for option in model_options()}


def default_model() -> str:
    installed = [o.name for o in model_options() if o.installed and o.name != CLASSICAL]
    return installed[0] if installed else CLASSICAL


@dataclass(frozen=True)
class ChannelFit:
    channel: str  # the campaign channel the preset serves, else the preset's slug
    label: str
    size: tuple[int, int]
    scale: float  # the scale at which the draft covers the preset (crop allowed)


def channel_fits(width: int, height: int, targets: Sequence[ChannelTarget]) -> list[ChannelFit]:
    """The scale each of the campaign's output sizes needs: one per preset, so a channel with
    two presets (``hero`` and ``hero_wide``) is covered by its larger need."""
    return [
        ChannelFit(
            t.channel or t.slug,
            t.label,
            t.size,
            max(t.width / width, t.height / height),
        )
        for t in targets
    ]


def draft_channel_fits(draft: Draft) -> list[ChannelFit]:
    return channel_fits(draft.width, draft.height, campaign_channel_targets(draft.campaign))


def largest_channel_fit(draft: Draft) -> ChannelFit | None:
    return largest_fit(draft_channel_fits(draft))


def largest_fit(fits: Sequence[ChannelFit]) -> ChannelFit | None:
    """The output size that needs the biggest scale, with that scale rounded up to 0.01: one
    upscale at it covers every preset of every target channel."""
    if not fits:
        return None
    best = max(fits, key=lambda f: f.scale)
    return ChannelFit(best.channel, best.label, best.size, math.ceil(best.scale * 100) / 100)


def done_upscales_by_draft(draft_ids: Sequence[int]) -> dict[int, UpscaleJob]:
    """The newest finished upscale per draft, in one query."""
    newest: dict[int, UpscaleJob] = {}
    for job in UpscaleJob.objects.filter(draft_id__in=draft_ids, status=JobStatus.DONE).order_by(
        "draft_id", "-finished_at", "-id"
    ):
        newest.setdefault(job.draft_id, job)
    return newest
