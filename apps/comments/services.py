"""Writes for comments: threads, replies, @mentions (notified through apps.rework) and
resolve / reopen."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Membership
from apps.campaigns.services import audit_record
from apps.comments.models import Comment
from apps.core.errors import Refusal
from apps.core.people import person_name
from apps.drafts.models import Draft
from apps.reviews.services import clean_regions
from apps.rework.models import NotificationKind
from apps.rework.services import notification_send

BODY_MAX = 4000
# Usernames as Django allows them (letters, digits and @.+-_); a mention ends at anything else.
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")
# Not a NotificationKind choice yet: adding one is a migration of apps.rework (see the report).
MENTION_KIND = NotificationKind.MENTION
REPLY_KIND = NotificationKind.COMMENT_REPLY

_UNSTORABLE = re.compile("[\x00]")


def mentioned_members(draft: Draft, body: str) -> list[User]:
    """The campaign's members named as @username in ``body`` (one query; strangers ignored)."""
    names = {name.rstrip(".").casefold() for name in _MENTION.findall(body)}
    if not names:
        return []
    memberships = Membership.objects.filter(campaign_id=draft.campaign_id).select_related("user")
    return [m.user for m in memberships if m.user.username.casefold() in names]


@transaction.atomic
def comment_post(
    *,
    draft: Draft,
    author: User,
    body: str,
    parent: Comment | None = None,
    region: Mapping[str, object] | None = None,
) -> Comment:
    """A new thread (optionally pinned to a region) or a reply to one. Mentioned members and,
    for a reply, the thread's earlier participants are notified."""
    body = body.strip()
    if not body:
        raise Refusal("Write a comment first.")
    if len(body) > BODY_MAX:
        raise Refusal(f"A comment has at most {BODY_MAX} characters.")
    if _UNSTORABLE.search(body):
        raise Refusal("The comment contains characters that cannot be saved.")
    if parent is not None:
        if parent.draft_id != draft.pk:
            raise Refusal("That thread belongs to another draft.")
        # A reply to a reply joins the thread: threads are one level deep.
        parent = parent.parent or parent
        region = None
    box: dict[str, object] = {}
    if region:
        # The review regions' own checks (edges cut, empty boxes refused); a comment's pin has
        # no category of its own.
        pin = {**region, "category": "other"}
        box = clean_regions([pin], width=draft.width, height=draft.height)[0]
    comment = Comment.objects.create(
        draft=draft,
        parent=parent,
        author=author,
        body=body,
        revision=draft.revision,
        **{key: box[key] for key in ("x", "y", "w", "h")} if box else {},
    )
    mentioned = [user for user in mentioned_members(draft, body) if user.pk != author.pk]
    comment.mentions.set(mentioned)
    url = reverse("drafts:detail", args=[draft.pk]) + f"#comment-{comment.pk}"
    who = person_name(author)
    for user in mentioned:
        notification_send(
            recipient=user,
            kind=MENTION_KIND,
            title=f"{who} mentioned you on {draft.original_name}",
            body=body[:500],
            url=url,
            campaign=draft.campaign,
        )
    if parent is not None:
        told = {author.pk, *(user.pk for user in mentioned)}
        thread_authors = Comment.objects.filter(Q(pk=parent.pk) | Q(parent=parent)).values("author")
        participants = User.objects.filter(pk__in=thread_authors).exclude(pk__in=told)
        for user in participants:
            notification_send(
                recipient=user,
                kind=REPLY_KIND,
                title=f"{who} replied on {draft.original_name}",
                body=body[:500],
                url=url,
                campaign=draft.campaign,
            )
    audit_record(
        campaign=draft.campaign,
        actor=author,
        verb="comment.posted",
        summary=f"Commented on “{draft.original_name}”",
        target=draft,
    )
    return comment


def comment_resolve(*, comment: Comment, by: User) -> bool:
    """Resolve a thread. Compare-and-swap: resolving a resolved thread changes nothing (two
    people pressing at once record one resolver). Returns whether this call resolved it."""
    thread = comment.parent or comment
    done = Comment.objects.filter(pk=thread.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=by
    )
    return bool(done)


def comment_reopen(*, comment: Comment, by: User) -> bool:
    thread = comment.parent or comment
    done = Comment.objects.filter(pk=thread.pk, resolved_at__isnull=False).update(
        resolved_at=None, resolved_by=None
    )
    return bool(done)
