from __future__ import annotations

import json
import mimetypes
from collections import Counter
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.models import Campaign
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import require_membership
from apps.core.errors import Refusal, StaleView
from apps.core.http import (
    refuse,
    request_user,
    serve_large,
    serve_private,
    unchanged_since,
    versioned,
)
from apps.core.panels import render_batch_panels, render_draft_panels, render_tile_badges
from apps.drafts.forms import BatchForm, ReferenceForm
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.selectors import (
    DECISION_FILTERS,
    GridFilters,
    Stack,
    batch_decisions_version,
    carried_batch,
    decision_counts,
    draft_position,
    draft_rendition,
    drafts_search,
    get_batch_for_user,
    get_draft_for_user,
    get_reference_for_user,
    grid_drafts,
    grid_stacks,
    neighbours,
    saved_filters,
    search_query,
    stack_members,
)
from apps.drafts.services import (
    IntakeResult,
    batch_create,
    draft_intake,
    reference_add_file,
    reference_add_url,
    saved_filter_delete,
    saved_filter_save,
)
from apps.reviews.forms import ReviewForm
from apps.reviews.guide import suggest_decision
from apps.reviews.selectors import draft_reviews, latest_review_by, stays_after_decision
from apps.reviews.stacks import stack_decide
from workers.genmeta.writers import Carried, a1111_parameters, comfyui_api_graph

# Multipart headers and the CSRF field around one file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024

# A campaign can hold thousands of drafts: the grid shows them a page at a time.
GRID_PAGE_SIZE = 60

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def upload_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The intake page. Without JavaScript the form posts every file here at once; with it,
    static/js/upload.js sends one request per file to ``upload_file`` and shows each result."""
    membership = require_membership(request_user(request), pk, Can.UPLOAD)
    campaign = membership.campaign
    results: list[IntakeResult] = []
    form = BatchForm(
        campaign=campaign,
        data=request.POST or None,
        initial={"batch": request.GET.get("batch") or None},
    )
    if request.method == "POST" and form.is_valid():
        batch = form.cleaned_data["batch"] or batch_create(
            campaign=campaign,
            name=form.cleaned_data["new_batch_name"],
            created_by=request_user(request),
        )
        for upload in request.FILES.getlist("files"):
            results.append(
                draft_intake(
                    batch=batch,
                    uploaded_by=request_user(request),
                    name=upload.name or "",
                    upload=upload,
                    size=upload.size,
                )
            )
        if not results:
            messages.warning(request, "Choose at least one file to upload.")
        return render(
            request,
            "drafts/upload.html",
            {
                "campaign": campaign,
                "form": BatchForm(campaign=campaign),
                "results": results,
                # A server failure is as much "not accepted" as a refusal, for the summary.
                "tally": Counter("rejected" if r.status == "error" else r.status for r in results),
                "batch": batch,
            },
        )
    # A posted form that did not validate comes back with its errors, as a 400.
    status = 400 if form.is_bound else 200
    context = {
        "campaign": campaign,
        "form": form,
        "carried_batch": carried_batch(campaign.pk, request.GET.get("batch")),
    }
    return render(request, "drafts/upload.html", context, status=status)


@require_GET
def batch_carried(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """What a record carried into the batch, as the generator's own input: an Automatic1111
    parameters text or a ComfyUI API-format graph."""
    batch = get_batch_for_user(request_user(request), pk).obj
    if not batch.carried or kind not in ("a1111", "comfyui"):
        raise Http404("This batch carries no record")
    carried = Carried.from_json(batch.carried)
    if kind == "a1111":
        body, content_type, ext = a1111_parameters(carried), "text/plain", "txt"
    else:
        graph = comfyui_api_graph(carried)
        body, content_type, ext = (
            json.dumps(graph, indent=2, ensure_ascii=False),
            "application/json",
            "json",
        )
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    name = f"batch-{batch.pk}-{'parameters' if kind == 'a1111' else 'comfyui-api'}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def batch_create_view(request: HttpRequest, pk: int) -> JsonResponse:
    membership = require_membership(request_user(request), pk, Can.UPLOAD)
    form = BatchForm(campaign=membership.campaign, data=request.POST)
    if not form.is_valid():
        return JsonResponse({"error": form.errors.get_json_data()}, status=400)
    batch = form.cleaned_data["batch"] or batch_create(
        campaign=membership.campaign,
        name=form.cleaned_data["new_batch_name"],
        created_by=request_user(request),
    )
    return JsonResponse(
        {"batch_id": batch.pk, "name": batch.name, "url": reverse("drafts:batch", args=[batch.pk])}
    )


def _refused(code: str, message: str, status: int) -> JsonResponse:
    """A file refused before intake, in the same shape as the intake's own answers."""
    return JsonResponse({"status": "rejected", "code": code, "message": message}, status=status)


@require_POST
def upload_file(request: HttpRequest, pk: int) -> JsonResponse:
    """One file into a batch. Always answers with a per-file result, never a 500 for bad input."""
    scoped = get_batch_for_user(request_user(request), pk, need=Can.UPLOAD)
    # Refuse an oversized body before Django reads it into a temporary file.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refused("bad_request", "The upload's Content-Length header is not a number.", 400)
    if declared > settings.DRAFTROOM_MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES:
        mb = settings.DRAFTROOM_MAX_UPLOAD_BYTES // (1024 * 1024)
        return _refused("too_large", f"This file is larger than the {mb} MB limit.", 413)
    upload = request.FILES.get("file")
    if upload is None:
        return _refused("missing", "No file was received.", 400)
    result = draft_intake(
        batch=scoped.obj,
        uploaded_by=request_user(request),
        name=upload.name or "",
        upload=upload,
        size=upload.size,
    )
    status = {"rejected": 422, "error": 503}.get(result.status, 200)
    body = result.as_json()
    if result.draft is not None:
        body["url"] = reverse("drafts:detail", args=[result.draft.pk])
    return JsonResponse(body, status=status)


def _filter_param(request: HttpRequest) -> str:
    value = request.GET.get("decision", "all")
    return value if value in DECISION_FILTERS else "all"


def _grid_filters(request: HttpRequest, batch_id: int | None) -> GridFilters:
    return GridFilters(
        batch_id=batch_id,
        decision=_filter_param(request),
        check=request.GET.get("check", ""),
        sort=request.GET.get("sort", ""),
    )


def _grid_context(
    request: HttpRequest, campaign: Campaign, filters: GridFilters, *, all_drafts: QuerySet[Draft]
) -> dict[str, object]:
    """What the grid shows for a search within a batch or a whole campaign: the page of tiles
    (or stack cards), decision counts and the saved searches. A constant number of queries
    whatever the page holds."""
    user = request_user(request)
    text = request.GET.get("q", "").strip()
    query = search_query(text)
    drafts_qs = drafts_search(user, campaign, query, filters)
    if query.is_empty:
        counts = decision_counts(all_drafts)
    else:
        counts = decision_counts(
            drafts_search(user, campaign, query, replace(filters, decision="all"))
        )
    stacked = request.GET.get("stacks") == "on"
    stacks: dict[int, Stack] = {}
    page: Page[Any]
    if stacked:
        page = Paginator(grid_stacks(drafts_qs), GRID_PAGE_SIZE).get_page(request.GET.get("page"))
        stacks = {stack.first_id: stack for stack in page.object_list}
        by_id = {d.pk: d for d in grid_drafts(Draft.objects.filter(pk__in=list(stacks)))}
        drafts = [by_id[pk] for pk in stacks if pk in by_id]
    else:
        paginator: Paginator[Draft] = Paginator(grid_drafts(drafts_qs), GRID_PAGE_SIZE)
        if not filters.check and query.is_empty:
            # The decision counts already hold this filter's total: no second COUNT query.
            paginator.count = counts[filters.decision]
        page = paginator.get_page(request.GET.get("page"))
        drafts = list(page.object_list)
    badges = render_tile_badges(drafts)
    # Two URLs a tile: reversed once and filled in, not reversed 120 times a page.
    detail_url = reverse("drafts:detail", args=[0]).replace("/0/", "/{}/")
    thumb_url = reverse("drafts:image", args=[0, "thumb"]).replace("/0/", "/{}/")
    stack_url = reverse("drafts:stack", args=[0, "k"]).replace("/0/", "/{}/").replace("/k/", "/{}/")
    for draft in drafts:
        draft.extra_badges = badges.get(draft.pk, "")  # type: ignore[attr-defined]
        draft.detail_url = detail_url.format(draft.pk)  # type: ignore[attr-defined]
        draft.thumb_url = thumb_url.format(draft.pk)  # type: ignore[attr-defined]
        stack = stacks.get(draft.pk)
        if stack is not None and stack.size > 1:
            draft.stack = stack  # type: ignore[attr-defined]
            draft.stack_url = stack_url.format(draft.batch_id, stack.key)  # type: ignore[attr-defined]
    return {
        "campaign": campaign,
        "drafts": drafts,
        "page": page,
        "counts": counts,
        "current_filter": filters.decision,
        "filters": [(key, key.capitalize()) for key in DECISION_FILTERS],
        "search": query,
        "stacked": stacked,
        "saved_filters": saved_filters(user, campaign),
    }


def batch_grid(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_batch_for_user(request_user(request), pk)
    batch = scoped.obj
    version = batch_decisions_version(batch.pk)
    fragment = request.GET.get("fragment") == "grid"
    # The open grid asks every few seconds whether anyone decided (static/js/poll.js live mode).
    if fragment and (not_modified := unchanged_since(request, version)):
        return not_modified
    context = _grid_context(
        request, batch.campaign, _grid_filters(request, batch.pk), all_drafts=batch.drafts.all()
    )
    drafts = cast(list[Draft], context["drafts"])
    context |= {
        "batch": batch,
        "can_upload": scoped.can(Can.UPLOAD),
        "can_review": scoped.can(Can.REVIEW),
        "membership": scoped.membership,
        "panels": render_batch_panels(request, batch, scoped.membership, drafts),
        "live_version": version,
        "bulk_url": reverse("reviews:batch-decide", args=[batch.pk])
        if scoped.can(Can.REVIEW) and not batch.campaign.is_archived
        else "",
    }
    if fragment:
        return versioned(render(request, "drafts/partials/grid.html", context), version)
    return render(request, "drafts/batch.html", context)


def campaign_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Search every batch of a campaign: the batch grid without its batch."""
    membership = require_membership(request_user(request), pk, Can.VIEW)
    campaign = membership.campaign
    context = _grid_context(
        request, campaign, _grid_filters(request, None), all_drafts=campaign.drafts.all()
    )
    context["membership"] = membership
    if role_can(membership.role, Can.REVIEW) and not campaign.is_archived:
        context["bulk_url"] = reverse("reviews:campaign-decide", args=[campaign.pk])
    if request.GET.get("fragment") == "grid":
        return render(request, "drafts/partials/grid.html", context)
    return render(request, "drafts/search.html", context)


def _back_to_grid(request: HttpRequest, campaign_id: int, query: str) -> str:
    """The grid the form was posted from: a batch's (named by id, never a URL, so nothing can
    redirect elsewhere) or the campaign's search."""
    batch_id = request.POST.get("batch", "")
    suffix = "?" + urlencode({"q": query}) if query else ""
    if batch_id.isdigit() and Batch.objects.filter(pk=batch_id, campaign_id=campaign_id).exists():
        return reverse("drafts:batch", args=[int(batch_id)]) + suffix
    return reverse("drafts:search", args=[campaign_id]) + suffix


@require_POST
def saved_filter_create(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk, Can.VIEW)
    query = request.POST.get("q", "")
    try:
        saved = saved_filter_save(
            user=request_user(request),
            campaign=membership.campaign,
            name=request.POST.get("name", ""),
            query=query,
        )
        messages.success(request, f"Saved the search “{saved.name}”.")
    except Refusal as exc:
        messages.error(request, f"Not saved: {exc.message}")
    return redirect(_back_to_grid(request, pk, query))


@require_POST
def saved_filter_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the person's own saved searches of this campaign; another person's id
    matches nothing, and deleting twice is not an error."""
    membership = require_membership(request_user(request), pk, Can.VIEW)
    raw = request.POST.get("id", "")
    name = saved_filter_delete(
        user=request_user(request),
        campaign=membership.campaign,
        pk=int(raw) if raw.isdigit() else 0,
    )
    if name:
        messages.success(request, f"Deleted the saved search “{name}”.")
    return redirect(_back_to_grid(request, pk, ""))


def stack_detail(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """One stack of a batch expanded: pick the best, decide the rest together."""
    scoped = get_batch_for_user(request_user(request), pk)
    batch = scoped.obj
    members = list(stack_members(batch, key))
    if not members:
        raise Http404("No such stack")
    form_error, status = "", 200
    if request.method == "POST":
        if not scoped.can(Can.REVIEW):
            raise PermissionDenied("Your role cannot decide drafts.")
        try:
            result = stack_decide(
                drafts=members,
                best_id=int(best) if (best := request.POST.get("best", "")).isdigit() else 0,
                rest=request.POST.get("rest", ""),
                note=request.POST.get("note", ""),
                reviewer=request_user(request),
                versions={
                    d.pk: request.POST[f"version-{d.pk}"]
                    for d in members
                    if f"version-{d.pk}" in request.POST
                },
            )
        except StaleView as exc:
            form_error, status = exc.message, 409
        except Refusal as exc:
            form_error, status = exc.message, 400
        else:
            messages.success(request, result)
            return redirect(reverse("drafts:batch", args=[batch.pk]) + "?stacks=on")
    badges = render_tile_badges(members)
    for draft in members:
        draft.extra_badges = badges.get(draft.pk, "")  # type: ignore[attr-defined]
    return render(
        request,
        "drafts/stack.html",
        {
            "batch": batch,
            "campaign": batch.campaign,
            "members": members,
            "key": key,
            "can_review": scoped.can(Can.REVIEW),
            "form_error": form_error,
            "rest_choices": [
                (Decision.REJECT, "Reject"),
                (Decision.REGENERATE, "Regenerate"),
                ("", "Leave undecided"),
            ],
        },
        status=status,
    )


def draft_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    current = _filter_param(request)
    prev_id, next_id = neighbours(draft, decision_filter=current)
    position, total = draft_position(draft)
    mine = latest_review_by(draft, request_user(request))
    initial = {"decision": draft.decision or ""}
    if mine is not None:
        for key, item in mine.checklist.items():
            initial[f"{key}_rating"] = item.get("rating", "")
            initial[f"{key}_note"] = item.get("note", "")
    form = ReviewForm(initial=initial)
    preview = draft_rendition(draft, "preview")
    suggestion = suggest_decision(mine.checklist if mine else {})
    return render(
        request,
        "drafts/detail.html",
        {
            "draft": draft,
            "campaign": draft.campaign,
            "membership": scoped.membership,
            "can_review": scoped.can(Can.REVIEW),
            "can_upload": scoped.can(Can.UPLOAD),
            "stay_after_decision": stays_after_decision(request_user(request)),
            "form": form,
            "suggestion": suggestion,
            "reviews": draft_reviews(draft),
            "prev_id": prev_id,
            "next_id": next_id,
            "position": position,
            "total": total,
            "current_filter": current,
            "preview": preview,
            "references": draft.references.all(),
            "reference_form": ReferenceForm(),
            "job": getattr(draft, "preview_job", None),
            "decisions": [c for c in Decision.choices if c[0]],
            "panels": render_draft_panels(request, draft, scoped.membership),
        },
    )


def draft_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled fragment: the preview job's state."""
    scoped = get_draft_for_user(request_user(request), pk)
    job = getattr(scoped.obj, "preview_job", None)
    return render(request, "drafts/partials/job_status.html", {"job": job, "draft": scoped.obj})


@require_GET
def draft_image(request: HttpRequest, pk: int, name: str) -> HttpResponseBase:
    """Serve a rendition (or the original) after the membership check; never a public URL."""
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    if name not in ("thumb", "preview", "original"):
        raise Http404("No such image")
    rendition = draft_rendition(draft, name) if name != "original" else None
    if rendition is not None:
        key, content_type = rendition.file_key, rendition.content_type
    else:
        key, content_type = (
            draft.file_key,
            CONTENT_TYPES.get(draft.format, "application/octet-stream"),
        )
    # The original at 100 % is the large one: from S3 the browser fetches it from storage.
    serve = serve_large if rendition is None else serve_private
    return serve(key, content_type, etag=f"{draft.sha256}-{name}")


@require_GET
def draft_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.DOWNLOAD_ORIGINAL)
    draft = scoped.obj
    ext = mimetypes.guess_extension(CONTENT_TYPES.get(draft.format, "")) or ""
    return serve_large(
        draft.file_key,
        CONTENT_TYPES.get(draft.format, "application/octet-stream"),
        filename=f"draft-{draft.pk}{ext}",
    )


@require_GET
def reference_file(request: HttpRequest, pk: int) -> FileResponse:
    ref = get_reference_for_user(request_user(request), pk)
    if not ref.file_key:
        raise Http404("This reference is a link, not a file")
    content_type = mimetypes.guess_type(ref.file_key)[0] or "application/octet-stream"
    return serve_private(ref.file_key, content_type)


@require_POST
def reference_add(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.UPLOAD)
    form = ReferenceForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            if upload is not None:
                reference_add_file(
                    draft=scoped.obj,
                    name=upload.name or "",
                    data=upload.read(),
                    by=request_user(request),
                )
            else:
                reference_add_url(
                    draft=scoped.obj, url=form.cleaned_data["url"], by=request_user(request)
                )
            messages.success(request, "Reference added.")
        except Refusal as exc:
            return refuse(
                request,
                exc,
                back=reverse("drafts:detail", args=[scoped.obj.pk]),
                prefix="Reference not added: ",
            )
    else:
        for error in form.non_field_errors() + [e for errs in form.errors.values() for e in errs]:
            messages.error(request, f"Reference not added: {error}")
    return redirect("drafts:detail", pk=scoped.obj.pk)
