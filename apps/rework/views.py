from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.permissions import Can
from apps.core.compare import compare_component
from apps.core.errors import Refusal, StaleView
from apps.core.http import refuse, request_user, safe_next, serve_private, wants_json
from apps.core.people import person_name
from apps.drafts.selectors import get_draft_for_user
from apps.reviews.selectors import draft_regions
from apps.rework.forms import (
    AssignmentForm,
    NotificationsReadForm,
    ReferenceForm,
    SubmitVersionForm,
)
from apps.rework.models import AssignmentKind
from apps.rework.selectors import (
    compare_choices,
    default_compare_pair,
    generation_diff,
    get_assignment_for_user,
    get_revision_for_user,
    inbox_for,
    notifications_by_draft,
    rework_version,
)
from apps.rework.services import (
    assignment_can_submit,
    assignment_cancel,
    assignment_create,
    assignment_submit,
    draft_reference_mark,
    draft_reference_unmark,
    notifications_mark_read,
)


def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """An art director sends a draft back: regenerate or edit, to a creator, with a due date."""
    scoped = get_draft_for_user(request_user(request), pk, need=Can.ASSIGN_REWORK)
    draft = scoped.obj
    form = AssignmentForm(request.POST or None, draft=draft)
    status = 200
    conflict = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                assignment = assignment_create(
                    draft=draft,
                    assigned_by=request_user(request),
                    assignee=form.cleaned_data["assignee"],
                    kind=form.cleaned_data["kind"],
                    instructions=form.cleaned_data["instructions"],
                    due_date=form.cleaned_data["due_date"],
                    regions=form.cleaned_data["regions"],
                    expected_version=form.cleaned_data["version"] or None,
                )
            except StaleView as exc:
                # Nothing saved: the form comes back as typed, with what changed and the
                # token for the draft as it is now, so assigning again is one click.
                conflict = exc.message
                data = request.POST.copy()
                data["version"] = rework_version(draft)
                form = AssignmentForm(data, draft=draft)
                form.is_valid()
                status = 409
            except Refusal as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    f"Assigned to {person_name(assignment.assignee)}, "
                    f"due {assignment.due_date:%d %b %Y}.",
                )
                return redirect("drafts:detail", pk=draft.pk)
        status = status if conflict else 400
    return render(
        request,
        "rework/assign.html",
        {
            "conflict": conflict,
            "draft": draft,
            "campaign": draft.campaign,
            "form": form,
            "regions": list(draft_regions(draft)),
        },
        status=status,
    )


def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "rework/inbox.html", {"inbox": inbox_for(request_user(request))})


def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    scoped = get_assignment_for_user(user, pk)
    assignment = scoped.obj
    regions = list(assignment.regions.select_related("review__reviewer").order_by("id"))
    draft = assignment.draft
    # The regions were drawn on the file as it was when assigned; show that file.
    figure = (
        None
        if assignment.draft_revision == draft.revision
        else draft.revisions.filter(number=assignment.draft_revision).first()
    )
    if figure is None:
        figure_src = reverse("drafts:image", args=[draft.pk, "preview"]) + f"?v={draft.sha256[:12]}"
        size = (draft.width, draft.height)
    else:
        figure_src = reverse("rework:revision-image", args=[figure.pk]) + f"?v={figure.sha256[:12]}"
        size = (figure.width, figure.height)
    return render(
        request,
        "rework/assignment.html",
        {
            "figure_src": figure_src,
            "figure_width": size[0],
            "figure_height": size[1],
            "assignment": assignment,
            "draft": assignment.draft,
            "campaign": assignment.campaign,
            "regions": regions,
            "can_submit": assignment.is_open and assignment_can_submit(assignment, user),
            "can_cancel": assignment.is_open and scoped.can(Can.ASSIGN_REWORK),
            "form": SubmitVersionForm(),
            "is_regenerate": assignment.kind == AssignmentKind.REGENERATE,
        },
    )


@require_POST
def assignment_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    scoped = get_assignment_for_user(user, pk, need=Can.UPLOAD)
    assignment = scoped.obj
    if not assignment_can_submit(assignment, user):
        raise PermissionDenied("This assignment is someone else's.")
    form = SubmitVersionForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            target = assignment_submit(
                assignment=assignment,
                by=user,
                name=upload.name or "",
                upload=upload,
                size=upload.size,
                note=form.cleaned_data["note"],
            )
        except Refusal as exc:
            error = exc.message
    else:
        error = " ".join(str(e) for errs in form.errors.values() for e in errs)
    if wants_json(request):
        if error:
            return JsonResponse(
                {"ok": False, "error": error}, status=422 if form.is_valid() else 400
            )
        return JsonResponse({"ok": True, "url": reverse("drafts:detail", args=[target.pk])})
    if error:
        messages.error(request, f"Not uploaded: {error}")
        return redirect("rework:assignment", pk=assignment.pk)
    messages.success(request, "Uploaded: the new version is back in review.")
    return redirect("drafts:detail", pk=target.pk)


@require_POST
def assignment_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_assignment_for_user(request_user(request), pk, need=Can.ASSIGN_REWORK)
    try:
        assignment_cancel(assignment=scoped.obj, by=request_user(request))
    except Refusal as exc:
        return refuse(request, exc, back=reverse("rework:assignment", args=[scoped.obj.pk]))
    messages.success(request, "Assignment cancelled.")
    return redirect("rework:assignment", pk=scoped.obj.pk)


@require_POST
def reference(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a rejected or regenerated draft as a reference for the next batch, or unmark it."""
    scoped = get_draft_for_user(request_user(request), pk, need=Can.REVIEW)
    draft = scoped.obj
    form = ReferenceForm(request.POST, draft=draft)
    if not form.is_valid():
        messages.error(
            request, "Not saved: " + " ".join(str(e) for v in form.errors.values() for e in v)
        )
        return redirect("drafts:detail", pk=draft.pk)
    try:
        if form.cleaned_data["action"] == "unmark":
            draft_reference_unmark(draft=draft, by=request_user(request))
            messages.success(request, "No longer a reference.")
        else:
            draft_reference_mark(
                draft=draft,
                by=request_user(request),
                note=form.cleaned_data["note"],
                batch=form.cleaned_data["batch"],
            )
            messages.success(request, "Kept as a reference for the next batch.")
    except Refusal as exc:
        return refuse(request, exc, back=reverse("drafts:detail", args=[draft.pk]))
    return redirect("drafts:detail", pk=draft.pk)


def compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions in the compare component (wipe, side by side or onion skin; zoom and pan in
    step) beside their parameter diff; ``?a=&b=`` pick them from the draft's lineage
    (``d<id>`` a draft, ``r<id>`` a revision) or ``product``."""
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    choices = compare_choices(draft)
    by_key = {c.key: c for c in choices}
    default_a, default_b = default_compare_pair(draft, choices)
    left = by_key.get(request.GET.get("a", ""), by_key[default_a])
    right = by_key.get(request.GET.get("b", ""), by_key[default_b])
    diff = generation_diff(left, right)
    return render(
        request,
        "rework/compare.html",
        {
            "draft": draft,
            "campaign": draft.campaign,
            "choices": choices,
            "left": left,
            "right": right,
            "compare": compare_component(
                a=left.as_json(), b=right.as_json(), request=request, default_mode="side"
            ),
            "diff": diff,
            "differing": [row.label for row in diff if row.differs],
            "can_set_reference": scoped.can(Can.SIGN_OFF),
        },
    )


@require_GET
def revision_image(request: HttpRequest, pk: int) -> FileResponse:
    revision = get_revision_for_user(request_user(request), pk)
    content_type = mimetypes.guess_type(revision.file_key)[0] or "application/octet-stream"
    return serve_private(revision.file_key, content_type, etag=revision.sha256)


def notifications(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "rework/notifications.html",
        {"groups": notifications_by_draft(request_user(request))},
    )


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one (``id``) or all of the person's notifications read, then go to ``next``."""
    user = request_user(request)
    form = NotificationsReadForm(request.POST)
    if not form.is_valid():
        # Refused, not dropped: a request whose every id was dropped would mark all read.
        error = "Nothing marked read: " + " ".join(str(e) for e in form.errors["id"])
        if wants_json(request):
            return JsonResponse({"ok": False, "error": error}, status=400)
        messages.error(request, error)
        context = {"groups": notifications_by_draft(user)}
        return render(request, "rework/notifications.html", context, status=400)
    notifications_mark_read(user=user, ids=form.cleaned_data["id"] or None)
    if wants_json(request):
        return JsonResponse({"ok": True})
    return HttpResponseRedirect(safe_next(request, reverse("rework:notifications")))
