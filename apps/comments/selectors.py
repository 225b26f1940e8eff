"""Reads for comments. ``draft_threads`` is a constant number of queries per draft page."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet
from django.http import Http404

from apps.campaigns.permissions import Can
from apps.campaigns.selectors import AnyUser, require_membership
from apps.comments.models import Comment
from apps.drafts.models import Draft
from apps.drafts.selectors import Scoped


def get_comment_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Scoped[Comment]:
    comment = Comment.objects.select_related("draft", "parent").filter(pk=pk).first()
    if comment is None:
        raise Http404("No such comment")
    return Scoped(comment, require_membership(user, comment.draft.campaign_id, need))


def draft_threads(draft: Draft) -> QuerySet[Comment]:
    """The draft's threads, open ones first, each with its replies and everyone's names."""
    return (
        Comment.objects.filter(draft=draft, parent__isnull=True)
        .select_related("author", "resolved_by")
        .prefetch_related(
            Prefetch("replies", queryset=Comment.objects.select_related("author").order_by("id"))
        )
        .order_by(F("resolved_at").asc(nulls_first=True), "id")
    )
