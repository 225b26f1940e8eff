from __future__ import annotations

from typing import Any

from django import template

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.drafts.models import Draft
from apps.reviews.models import RegionCategory
from apps.reviews.selectors import decision_version as _decision_version
from apps.reviews.selectors import review_settings_for

register = template.Library()


def decision_now_context(draft: Draft, membership: Membership) -> dict[str, Any]:
    return {
        "draft": draft,
        "can_sign_off": role_can(membership.role, Can.SIGN_OFF),
        "rule": review_settings_for(draft.campaign).get_sign_off_display(),
        "version": _decision_version(draft),
    }


@register.filter
def decision_version(draft: Draft) -> str:
    """The token a decision form posts back, so a stale page gets a conflict answer."""
    return _decision_version(draft)


@register.inclusion_tag("reviews/partials/decision_now.html", takes_context=True)
def decision_now(context: template.Context, draft: Draft, membership: Membership) -> dict:
    """The current decision, who made it, and the sign-off it may be waiting for."""
    return {**decision_now_context(draft, membership), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("reviews/partials/region_fields.html")
def pending_regions() -> dict:
    """Inside the review form: regions drawn since the last review, saved with the next one."""
    return {"categories": RegionCategory.choices}
