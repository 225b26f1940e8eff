"""The draft page's "Client answers" panel, with the way to share the draft."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.sharing.selectors import client_approvals


def client_answers_panel(request: HttpRequest, draft: Any, membership: Membership) -> SafeString:
    answers = client_approvals(draft)
    can_share = role_can(membership.role, Can.EXPORT)
    if not answers and not can_share:
        return SafeString("")
    return SafeString(
        render_to_string(
            "sharing/partials/answers_panel.html",
            {"draft": draft, "answers": answers, "can_share": can_share},
            request=request,
        )
    )
