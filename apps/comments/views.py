from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.comments.selectors import draft_threads, get_comment_for_user
from apps.comments.services import comment_post, comment_reopen, comment_resolve
from apps.core.errors import Refusal
from apps.core.http import refuse, request_user
from apps.drafts.selectors import get_draft_for_user


def _region(request: HttpRequest) -> dict[str, object] | None:
    values = {key: request.POST.get(key, "") for key in ("x", "y", "w", "h")}
    if not any(values.values()):
        return None
    return dict(values)  # clean_regions reads and checks the numbers


def _to_thread(draft_id: int, comment_id: int | None = None) -> str:
    anchor = f"#comment-{comment_id}" if comment_id else "#comments"
    return reverse("drafts:detail", args=[draft_id]) + anchor


def draft_comments(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the draft's threads (the panel's fragment). POST: a new thread or a reply; any
    member may comment, as any member may be asked something."""
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    if request.method == "POST":
        parent = None
        if request.POST.get("parent", "").isdigit():
            parent = get_comment_for_user(request_user(request), int(request.POST["parent"])).obj
        try:
            comment = comment_post(
                draft=draft,
                author=request_user(request),
                body=request.POST.get("body", ""),
                parent=parent,
                region=_region(request),
            )
        except Refusal as exc:
            return refuse(request, exc, back=_to_thread(draft.pk), prefix="Comment not posted: ")
        return redirect(_to_thread(draft.pk, comment.pk))
    threads = list(draft_threads(draft))
    return render(
        request,
        "comments/partials/threads.html",
        {"draft": draft, "threads": threads},
    )


@require_POST
def thread_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_comment_for_user(request_user(request), pk)
    comment_resolve(comment=scoped.obj, by=request_user(request))
    return redirect(_to_thread(scoped.obj.draft_id, scoped.obj.parent_id or scoped.obj.pk))


@require_POST
def thread_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_comment_for_user(request_user(request), pk)
    comment_reopen(comment=scoped.obj, by=request_user(request))
    return redirect(_to_thread(scoped.obj.draft_id, scoped.obj.parent_id or scoped.obj.pk))
