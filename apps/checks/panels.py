"""What the checks app adds to the draft page and the batch grid (registered in apps.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.checks.selectors import (
    CHECK_FILTERS,
    CHECK_SORTS,
    Badge,
    batch_check_filter_counts,
    check_badges_for,
    draft_check_report,
)


def check_panel(request: HttpRequest, draft: Any, membership: Membership) -> SafeString:
    """The draft page's checks, above the decision: every member may read them."""
    return SafeString(
        render_to_string(
            "checks/partials/panel.html",
            panel_context(draft, membership),
            request=request,
        )
    )


def panel_context(draft: Any, membership: Membership) -> dict[str, Any]:
    return {
        "draft": draft,
        "report": draft_check_report(draft),
        "can_rerun": role_can(membership.role, Can.REVIEW),
    }


def check_controls(
    request: HttpRequest, batch: Any, membership: Membership, drafts: Sequence[Any]
) -> SafeString:
    """Filter and sort the batch grid by the checks."""
    counts = batch_check_filter_counts(batch)
    current_check = request.GET.get("check", "")
    current_sort = request.GET.get("sort", "")
    return SafeString(
        render_to_string(
            "checks/partials/grid_controls.html",
            {
                "filters": [(key, label, counts[key]) for key, label in CHECK_FILTERS.items()],
                "sorts": list(CHECK_SORTS.items()),
                "current_check": current_check if current_check in CHECK_FILTERS else "",
                "current_sort": current_sort if current_sort in CHECK_SORTS else "",
                "decision": request.GET.get("decision", "all"),
            },
            request=request,
        )
    )


def check_badges(drafts: Sequence[Any]) -> dict[int, SafeString | str]:
    """A badge per tile. Built with format_html, not a template: a grid page has 60 tiles, and
    a template render per tile was a large share of the page's time (docs/performance.md)."""
    return {
        draft_id: _badge_html(badge)
        for draft_id, badge in check_badges_for([d.pk for d in drafts]).items()
    }


def _badge_html(badge: Badge) -> SafeString:
    html = format_html(
        '<span class="check-badge check-{}" title="{}"{}>{}</span>',
        badge.status,
        badge.title,
        mark_safe(' data-running="1"') if badge.running else "",
        badge.text,
    )
    if badge.fit_text:
        html += format_html(
            '<span class="fit-chip" title="{}">{}</span>', badge.fit_title, badge.fit_text
        )
    if badge.dup_size > 1:
        html += format_html(
            '<span class="check-badge check-dup" title="One of {} near-duplicates in this '
            'campaign">≈ set of {}</span>',
            badge.dup_size,
            badge.dup_size,
        )
    return html
