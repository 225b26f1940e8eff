"""The upscale sections of the draft page and the batch grid (registered in apps.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.drafts.models import Decision
from apps.upscales.forms import UpscaleForm
from apps.upscales.selectors import (
    batch_active_count,
    default_model,
    done_upscales_by_draft,
    draft_channel_fits,
    draft_upscales,
    kept_drafts,
    largest_fit,
)


def draft_panel(request: HttpRequest, draft: Any, membership: Membership) -> str:
    can_upscale = role_can(membership.role, Can.UPSCALE)
    fits = draft_channel_fits(draft)
    return render_to_string(
        "upscales/panel.html",
        {
            "draft": draft,
            "jobs": draft_upscales(draft),
            "can_upscale": can_upscale,
            "kept": draft.decision == Decision.KEEP,
            "form": UpscaleForm(initial={"model": default_model(), "target": "4"}),
            "fit": largest_fit(fits),
            "fits": fits,
        },
        request=request,
    )


def batch_toolbar(
    request: HttpRequest, batch: Any, membership: Membership, drafts: Sequence[Any]
) -> str:
    if not role_can(membership.role, Can.UPSCALE):
        return ""
    return render_to_string(
        "upscales/batch_toolbar.html",
        {
            "batch": batch,
            "kept_count": kept_drafts(batch).count(),
            "active_count": batch_active_count(batch),
            "form": UpscaleForm(initial={"model": default_model(), "target": "fit"}),
        },
        request=request,
    )


def tile_badges(drafts: Sequence[Any]) -> dict[int, SafeString | str]:
    """A small "upscaled ×4" badge on tiles whose draft has a finished upscale (one query per
    page); the title names the model."""
    done = done_upscales_by_draft([d.pk for d in drafts])
    return {
        draft_id: format_html(
            '<span class="badge upscale-badge" title="Upscaled master ready, made by {}">'
            "upscaled {}</span>",
            job.model_label or job.model_name,
            job.scale_label,
        )
        for draft_id, job in done.items()
    }
