from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from apps.campaigns.permissions import Can
from apps.core.http import request_user, wants_json
from apps.drafts.selectors import get_draft_for_user
from apps.reviews.forms import ReviewForm, checklist_from_post
from apps.reviews.guide import suggest_decision
from apps.reviews.selectors import draft_reviews
from apps.reviews.services import clean_checklist, review_submit


@require_POST
def review_create(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.REVIEW)
    draft = scoped.obj
    form = ReviewForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            review_submit(
                draft=draft,
                reviewer=request_user(request),
                decision=form.cleaned_data["decision"],
                checklist=form.checklist(),
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
    if wants_json(request):
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        history = render_to_string(
            "reviews/partials/history.html", {"reviews": draft_reviews(draft)}, request=request
        )
        return JsonResponse(
            {
                "ok": True,
                "decision": draft.decision,
                "decision_label": draft.get_decision_display(),
                "decided_by": draft.decided_by.get_username() if draft.decided_by else "",
                "history_html": history,
            }
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Saved: {draft.get_decision_display()}.")
    return redirect("drafts:detail", pk=draft.pk)


@require_POST
def review_suggest(request: HttpRequest, pk: int) -> JsonResponse:
    """The decision guide for a checklist being filled in (not saved)."""
    get_draft_for_user(request_user(request), pk, need=Can.REVIEW)
    try:
        checklist = clean_checklist(checklist_from_post(request.POST))
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse(suggest_decision(checklist).as_json())
