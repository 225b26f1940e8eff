"""What apps.exports adds to the draft page and the batch grid (registered in apps.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.core.provenance import content_credentials_on
from apps.drafts.models import Decision
from apps.exports.selectors import focal_for, latest_export_job


def draft_panel(request: HttpRequest, draft: Any, membership: Membership) -> SafeString:
    return SafeString(
        render_to_string(
            "exports/partials/draft_panel.html",
            {
                "draft": draft,
                "focal": focal_for(draft),
                "job": latest_export_job(draft),
                "can_export": role_can(membership.role, Can.EXPORT),
                "is_kept": draft.decision == Decision.KEEP,
                "content_credentials": content_credentials_on(),
            },
            request=request,
        )
    )


def batch_toolbar(
    request: HttpRequest, batch: Any, membership: Membership, drafts: Sequence[Any]
) -> SafeString:
    if not role_can(membership.role, Can.EXPORT):
        return SafeString("")
    kept = batch.drafts.filter(decision=Decision.KEEP).count()
    return SafeString(
        render_to_string(
            "exports/partials/batch_toolbar.html",
            {"batch": batch, "kept": kept},
            request=request,
        )
    )
