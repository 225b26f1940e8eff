"""The comments section of the draft page (registered in CommentsConfig.ready)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.campaigns.models import Membership
from apps.comments.selectors import draft_threads
from apps.drafts.models import Draft


def comments_panel(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    threads = list(draft_threads(draft))
    return render_to_string(
        "comments/partials/panel.html",
        {
            "draft": draft,
            "threads": threads,
            "open_count": sum(1 for t in threads if not t.is_resolved),
        },
        request=request,
    )
