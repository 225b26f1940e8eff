from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.permissions import Can
from apps.checks.panels import panel_context
from apps.checks.services import check_rerun
from apps.core.http import request_user
from apps.drafts.selectors import get_draft_for_user


@require_GET
def check_panel_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The checks panel body, polled by static/js/checks.js while the checks run."""
    scoped = get_draft_for_user(request_user(request), pk)
    return render(
        request, "checks/partials/panel_body.html", panel_context(scoped.obj, scoped.membership)
    )


@require_POST
def check_rerun_view(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.REVIEW)
    if check_rerun(draft=scoped.obj, by=request_user(request)):
        messages.success(request, "The automatic checks will run again.")
    else:
        messages.info(request, "The automatic checks are already running.")
    return redirect("drafts:detail", pk=scoped.obj.pk)
