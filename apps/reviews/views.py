from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.models import Campaign, Membership
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import require_membership
from apps.core.errors import Refusal, StaleView
from apps.core.forms import parse_id
from apps.core.http import (
    refuse,
    request_user,
    safe_next,
    serve_private,
    unchanged_since,
    versioned,
    wants_json,
)
from apps.drafts.models import Decision, Draft
from apps.drafts.selectors import get_batch_for_user, get_draft_for_user
from apps.reviews.forms import (
    BulkDecideForm,
    ProductReferenceForm,
    ReviewForm,
    ReviewSettingsForm,
    checklist_from_post,
)
from apps.reviews.guide import suggest_decision
from apps.reviews.panels import consensus_panel, regions_data, regions_panel
from apps.reviews.selectors import (
    batch_summary,
    decision_version,
    draft_regions_export,
    draft_reviews,
    drafts_awaiting_sign_off,
    next_undecided_id,
    review_settings_for,
    sign_off_queue_version,
    stays_after_decision,
)
from apps.reviews.services import (
    clean_checklist,
    product_reference_set,
    review_preferences_update,
    review_settings_update,
    review_sign_off,
    review_sign_off_many,
    review_submit,
    review_submit_many,
)
from apps.reviews.templatetags.reviews_tags import decision_now_context


def _decided_by(draft: Draft) -> str:
    person = draft.proposed_by if draft.proposed_decision else draft.decided_by
    return person.get_username() if person else ""


def _decision_parts(request: HttpRequest, draft: Draft, membership: Membership) -> dict[str, str]:
    """The page's decision block and history as they are now, with the token to post next."""
    return {
        "decision_html": render_to_string(
            "reviews/partials/decision_now.html",
            decision_now_context(draft, membership),
            request=request,
        ),
        "history_html": render_to_string(
            "reviews/partials/history.html", {"reviews": draft_reviews(draft)}, request=request
        ),
        "version": decision_version(draft),
    }


def _stale(
    request: HttpRequest, draft: Draft, membership: Membership, exc: StaleView
) -> HttpResponse:
    """Acting on an out-of-date page: nothing was saved. A fetch gets 409 with the page parts
    as they are now, so the person sees what changed and decides again; a form post comes
    back to the draft page, now current, with the same words."""
    if wants_json(request):
        draft.refresh_from_db()
        return JsonResponse(
            {
                "ok": False,
                "conflict": True,
                "error": exc.message,
                "changes": exc.changes,
                **_decision_parts(request, draft, membership),
            },
            status=409,
        )
    messages.warning(request, exc.message, extra_tags="conflict")
    return redirect("drafts:detail", pk=draft.pk)


def _after_decision(request: HttpRequest, draft: Draft) -> dict[str, object]:
    """Where the page goes after a decision: the next undecided draft, or the batch's summary
    when none is left; ``stay`` when the person prefers to stay on the draft."""
    next_id = next_undecided_id(draft)
    return {
        "stay": stays_after_decision(request_user(request)),
        "next_url": reverse("drafts:detail", args=[next_id])
        if next_id
        else reverse("reviews:batch-summary", args=[draft.batch_id]),
    }


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
                regions=request.POST.get("regions", ""),
                expected_version=form.cleaned_data["version"] or None,
            )
        except StaleView as exc:
            return _stale(request, draft, scoped.membership, exc)
        except Refusal as exc:
            error = exc.message
    else:
        error = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
    if wants_json(request):
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        draft.refresh_from_db()
        return JsonResponse(
            {
                "ok": True,
                # ``decision`` is the one that counts; ``proposed`` waits for sign-off.
                "decision": draft.decision,
                "proposed": draft.proposed_decision,
                "awaiting_sign_off": draft.awaiting_sign_off,
                "status": draft.status_class,
                "decision_label": draft.status_label,
                "decided_by": _decided_by(draft),
                **_decision_parts(request, draft, scoped.membership),
                "consensus_html": consensus_panel(request, draft, scoped.membership),
                "regions_html": regions_panel(request, draft, scoped.membership),
                "regions": regions_data(draft),
                **_after_decision(request, draft),
            }
        )
    if error:
        messages.error(request, error)
    else:
        draft.refresh_from_db()
        messages.success(request, f"Saved: {draft.status_label}.")
    return redirect("drafts:detail", pk=draft.pk)


@require_GET
def decision_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft page's decision block and review history as they are now, for the page's live
    watch (static/js/poll.js): 304 while the page shows the current ``decision_version``."""
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    version = decision_version(draft)
    if not_modified := unchanged_since(request, version):
        return not_modified
    # Every review moves the version (a decision, a proposal, a sign-off), so the history
    # rides along in the same answer: one poller keeps both panels current (review.js).
    context = {**decision_now_context(draft, scoped.membership), "reviews": draft_reviews(draft)}
    return versioned(render(request, "reviews/partials/decision_live.html", context), version)


@require_POST
def review_suggest(request: HttpRequest, pk: int) -> JsonResponse:
    """The decision guide for a checklist being filled in (not saved)."""
    get_draft_for_user(request_user(request), pk, need=Can.REVIEW)
    try:
        checklist = clean_checklist(checklist_from_post(request.POST))
    except Refusal as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse(suggest_decision(checklist).as_json())


@require_POST
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.SIGN_OFF)
    try:
        review_sign_off(
            draft=scoped.obj,
            by=request_user(request),
            expected_version=request.POST.get("version") or None,
        )
    except StaleView as exc:
        return _stale(request, scoped.obj, scoped.membership, exc)
    except Refusal as exc:
        return refuse(request, exc, back=reverse("drafts:detail", args=[scoped.obj.pk]))
    draft = scoped.obj
    if wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "decision": draft.decision,
                "decision_label": draft.status_label,
                **_decision_parts(request, draft, scoped.membership),
            }
        )
    messages.success(request, f"Signed off: {draft.status_label}.")
    return redirect("drafts:detail", pk=draft.pk)


@require_GET
def regions_json(request: HttpRequest, pk: int) -> JsonResponse:
    scoped = get_draft_for_user(request_user(request), pk)
    return JsonResponse(draft_regions_export(scoped.obj), json_dumps_params={"indent": 2})


def settings_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Art directors set the campaign's sign-off rule and its product reference image."""
    user = request_user(request)
    membership = require_membership(user, pk, Can.SIGN_OFF)
    campaign = membership.campaign
    settings = review_settings_for(campaign)
    rule_form = ReviewSettingsForm(initial={"sign_off": settings.sign_off})
    reference_form = ProductReferenceForm()
    if request.method == "POST":
        if request.POST.get("action") == "reference":
            reference_form = ProductReferenceForm(request.POST, request.FILES)
            if reference_form.is_valid():
                upload = reference_form.cleaned_data["file"]
                try:
                    product_reference_set(
                        campaign=campaign, by=user, name=upload.name or "", upload=upload
                    )
                except Refusal as exc:
                    # Not ``refuse``: the page is shown again with the forms, not redirected.
                    messages.error(request, f"Not saved: {exc.message}")
                else:
                    messages.success(request, "Product reference image saved.")
                    return redirect("reviews:settings", pk=campaign.pk)
        else:
            rule_form = ReviewSettingsForm(request.POST)
            if rule_form.is_valid():
                review_settings_update(
                    campaign=campaign, by=user, sign_off=rule_form.cleaned_data["sign_off"]
                )
                messages.success(request, "Sign-off rule saved.")
                return redirect("reviews:settings", pk=campaign.pk)
        status = 400
    else:
        status = 200
    return render(
        request,
        "reviews/settings.html",
        {
            "campaign": campaign,
            "settings": settings,
            "rule_form": rule_form,
            "reference_form": reference_form,
        },
        status=status,
    )


@require_GET
def product_reference(request: HttpRequest, pk: int) -> FileResponse:
    membership = require_membership(request_user(request), pk, Can.VIEW)
    settings = review_settings_for(membership.campaign)
    if not settings.product_reference_key:
        raise Http404("This campaign has no product reference image")
    return serve_private(
        settings.product_reference_key,
        settings.product_reference_content_type or "application/octet-stream",
        etag=settings.product_reference_sha256,
    )


@require_GET
def batch_summary_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The end of a batch: counts by decision and what still waits on whom."""
    scoped = get_batch_for_user(request_user(request), pk)
    batch = scoped.obj
    summary = batch_summary(batch)
    return render(
        request,
        "reviews/batch_summary.html",
        {
            "batch": batch,
            "campaign": batch.campaign,
            "summary": summary,
            "decisions": [
                (value, label, summary.counts.get(value, 0)) for value, label in Decision.choices
            ],
        },
    )


@require_POST
def preferences_update(request: HttpRequest) -> HttpResponse:
    """The person's triage preference: open the next draft after deciding, or stay."""
    user = request_user(request)
    stay = request.POST.get("stay_after_decision") == "1"
    review_preferences_update(user=user, stay_after_decision=stay)
    if wants_json(request):
        return JsonResponse({"ok": True, "stay": stay})
    messages.success(
        request,
        "After a decision you stay on the draft."
        if stay
        else "After a decision the next undecided draft opens.",
    )
    return redirect(safe_next(request, reverse("campaigns:list")))


def sign_off_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """An art director's queue: every decision in the campaign that waits for their sign-off,
    signed off one by one (S) or several at once. Each row posts the version token it showed,
    so a decision that changed meanwhile is reported, not signed blind."""
    user = request_user(request)
    membership = require_membership(user, pk, Can.SIGN_OFF)
    campaign = membership.campaign
    if request.method == "POST":
        # A row's own button signs off that row only; the other button, the selected rows.
        one = request.POST.get("one", "")
        picked = [one] if one else request.POST.getlist("draft")
        wanted = [n for n in map(parse_id, picked) if n is not None]
        # Not only those still waiting: one decided again since the page was shown is
        # reported as changed (its token no longer matches) instead of silently skipped.
        chosen = list(Draft.objects.filter(campaign_id=campaign.pk, pk__in=wanted).order_by("id"))
        results = review_sign_off_many(
            drafts=[(d, request.POST.get(f"version-{d.pk}") or "") for d in chosen], by=user
        )
        done = sum(1 for r in results if r.ok)
        names = {d.pk: d.original_name for d in chosen}
        if done:
            messages.success(request, f"Signed off {done} decision{'s' if done != 1 else ''}.")
        for r in results:
            if not r.ok:
                messages.warning(request, f"“{names[r.draft_id]}”: {r.message}")
        if not chosen:
            messages.error(request, "Choose at least one decision to sign off.")
        return redirect("reviews:sign-off-queue", pk=campaign.pk)
    version = sign_off_queue_version(campaign.pk)
    fragment = request.GET.get("fragment") == "rows"
    # The open queue asks every few seconds whether anyone signed off or decided again
    # (static/js/poll.js live mode): 304 until the queue changes.
    if fragment and (not_modified := unchanged_since(request, version)):
        return not_modified
    context = {
        "campaign": campaign,
        "queue": list(drafts_awaiting_sign_off(campaign.pk)),
        "live_version": version,
    }
    if fragment:
        return versioned(render(request, "reviews/partials/sign_off_rows.html", context), version)
    return render(request, "reviews/sign_off_queue.html", context)


# A grid page holds 60 drafts; a post naming more was not made from one.
MAX_BULK = 200
# What the batch grid's address may carry back after a bulk decision (its filters and page).
GRID_QUERY_KEYS = ("q", "decision", "check", "sort", "stacks", "page")


def _grid_back(grid_url: str, posted: str) -> str:
    """The grid the bulk form was posted from, with the same filters: only the grid's own
    parameters are taken from what the form carried, never a URL."""
    params = QueryDict(posted)
    kept = {key: params[key] for key in GRID_QUERY_KEYS if params.get(key)}
    return grid_url + ("?" + urlencode(kept) if kept else "")


@require_POST
def batch_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Bulk decide from the batch grid (see ``_bulk_decide``)."""
    scoped = get_batch_for_user(request_user(request), pk, need=Can.REVIEW)
    back = _grid_back(reverse("drafts:batch", args=[pk]), request.POST.get("query", ""))
    return _bulk_decide(request, scoped.obj.campaign, back)


@require_POST
def campaign_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Bulk decide from the campaign's search, across its batches (see ``_bulk_decide``)."""
    membership = require_membership(request_user(request), pk, Can.REVIEW)
    back = _grid_back(reverse("drafts:search", args=[pk]), request.POST.get("query", ""))
    return _bulk_decide(request, membership.campaign, back)


def _bulk_decide(request: HttpRequest, campaign: Campaign, back: str) -> HttpResponse:
    """The selected drafts get one decision with one note, each against the version token its
    card showed. A refusal (a missing note, a draft of another campaign) saves nothing; a draft
    changed meanwhile is reported, the others saved."""
    form = BulkDecideForm(request.POST)
    picked = request.POST.getlist("draft")
    wanted = {n for n in map(parse_id, picked) if n is not None}
    try:
        if not form.is_valid():
            raise Refusal(form.first_error())
        if len(wanted) != len(picked) or len(wanted) > MAX_BULK:
            raise Refusal(f"Choose between 1 and {MAX_BULK} drafts of this campaign.")
        chosen = list(Draft.objects.filter(pk__in=wanted).order_by("id"))
        if len(chosen) != len(wanted):
            raise Refusal("Some of the chosen drafts are not in this campaign.")
        results = review_submit_many(
            campaign=campaign,
            drafts=[(d, request.POST.get(f"version-{d.pk}") or "") for d in chosen],
            reviewer=request_user(request),
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        )
    except Refusal as exc:
        return refuse(request, exc, back=back, prefix="Nothing saved: ")
    saved = [r for r in results if r.ok]
    if saved:
        said = ", ".join(sorted({r.message for r in saved}))
        messages.success(
            request, f"Saved {len(saved)} draft{'s' if len(saved) != 1 else ''}: {said}."
        )
    names = {d.pk: d.original_name for d in chosen}
    for r in results:
        if not r.ok:
            messages.warning(request, f"“{names[r.draft_id]}” {r.message}", extra_tags="conflict")
    return redirect(back)
