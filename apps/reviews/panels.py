"""The reviews app's sections of the draft page and badges of the batch grid (registered in
ReviewsConfig.ready). Fragments are shared with the JSON answer of a decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.drafts.models import Decision, Draft
from apps.reviews.models import Region, RegionCategory
from apps.reviews.selectors import draft_consensus, draft_regions, region_as_json


def region_tools(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    return render_to_string(
        "reviews/partials/region_tools.html",
        {"can_review": role_can(membership.role, Can.REVIEW)},
        request=request,
    )


def _page_regions(draft: Draft) -> list[Region]:
    """The draft's regions, read once per page: the overlay and the regions panel both show
    them. Kept on the draft object the page renders from."""
    regions: list[Region] | None = getattr(draft, "_page_regions", None)
    if regions is None:
        regions = list(draft_regions(draft))
        draft._page_regions = regions  # type: ignore[attr-defined]
    return regions


def regions_data(draft: Draft) -> list[dict[str, Any]]:
    return [
        {**region_as_json(r), "current": r.revision == draft.revision} for r in _page_regions(draft)
    ]


def region_overlay(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    return render_to_string(
        "reviews/partials/region_overlay.html",
        {
            "draft": draft,
            "regions": regions_data(draft),
            "categories": RegionCategory.choices,
            "can_review": role_can(membership.role, Can.REVIEW),
        },
        request=request,
    )


def regions_panel(request: HttpRequest, draft: Draft, membership: Membership | None) -> str:
    can_review = membership is not None and role_can(membership.role, Can.REVIEW)
    return render_to_string(
        "reviews/partials/regions.html",
        {"draft": draft, "regions": _page_regions(draft), "can_review": can_review},
        request=request,
    )


def consensus_panel(request: HttpRequest, draft: Draft, membership: Membership | None) -> str:
    return render_to_string(
        "reviews/partials/consensus.html",
        {"draft": draft, "consensus": draft_consensus(draft)},
        request=request,
    )


def sign_off_badges(drafts: Sequence[Any]) -> dict[int, SafeString | str]:
    """Grid tiles of drafts whose decision waits for sign-off (no query: fields on the row)."""
    return {
        d.pk: format_html(
            '<span class="awaiting-badge">{} — awaiting sign-off</span>',
            Decision(d.proposed_decision).label,
        )
        for d in drafts
        if d.proposed_decision
    }
