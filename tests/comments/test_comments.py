"""Comments: threads, pins, replies, @mentions, resolve / reopen, on the draft page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.comments.models import Comment
from apps.comments.services import comment_post, comment_reopen, comment_resolve
from apps.core.errors import Refusal
from apps.drafts.models import Draft
from apps.rework.models import Notification
from tests.drafts.builders import run_previews
from tests.factories import make_draft


@pytest.fixture
def draft(batch):
    return make_draft(batch, name="can.png")


def test_a_comment_opens_a_thread_without_touching_the_decision(cast, draft):
    comment = comment_post(draft=draft, author=cast.reviewer, body="  Is the label legible? ")
    assert comment.body == "Is the label legible?" and comment.parent is None
    draft.refresh_from_db()
    assert draft.decision == "" and not draft.reviews.exists()


def test_a_mention_of_a_member_notifies_them_and_strangers_are_ignored(cast, draft):
    comment_post(
        draft=draft,
        author=cast.reviewer,
        body="@art_director can you check? cc @outsider @nobody @reviewer",
    )
    notes = Notification.objects.all()
    assert [n.recipient for n in notes] == [cast.art_director]
    note = notes.get()
    assert note.kind == "mention" and note.title == "reviewer mentioned you on can.png"
    assert note.url.startswith(reverse("drafts:detail", args=[draft.pk]) + "#comment-")
    assert list(Comment.objects.get().mentions.all()) == [cast.art_director]


def test_a_reply_joins_the_thread_and_tells_its_earlier_participants(cast, draft):
    thread = comment_post(draft=draft, author=cast.reviewer, body="Label edge is soft")
    reply = comment_post(draft=draft, author=cast.creator, body="Fixed in r2", parent=thread)
    nested = comment_post(draft=draft, author=cast.art_director, body="Agreed", parent=reply)
    assert reply.parent == thread and nested.parent == thread, "threads are one level deep"
    told = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert told == [
        ("creator", "comment_reply"),
        ("reviewer", "comment_reply"),
        ("reviewer", "comment_reply"),
    ]


def test_a_reply_to_another_drafts_thread_is_refused(cast, batch, draft):
    other = make_draft(batch, name="other.png")
    thread = comment_post(draft=other, author=cast.reviewer, body="x")
    with pytest.raises(Refusal):
        comment_post(draft=draft, author=cast.reviewer, body="y", parent=thread)


def test_a_thread_pinned_to_a_region_keeps_the_box_cut_at_the_image_edge(cast, draft):
    comment = comment_post(
        draft=draft,
        author=cast.reviewer,
        body="this corner",
        region={"x": "0.8", "y": "0.5", "w": "0.5", "h": "0.25"},
    )
    assert (comment.x, comment.y, comment.h) == (0.8, 0.5, 0.25)
    assert comment.w == pytest.approx(0.2)
    with pytest.raises(Refusal):
        comment_post(draft=draft, author=cast.reviewer, body="x", region={"x": "2", "y": "0"})


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001, "nul\x00"])
def test_an_empty_too_long_or_unstorable_comment_is_refused(cast, draft, body):
    with pytest.raises(Refusal):
        comment_post(draft=draft, author=cast.reviewer, body=body)


def test_resolve_and_reopen_are_compare_and_swap_on_the_thread(cast, draft):
    thread = comment_post(draft=draft, author=cast.reviewer, body="x")
    reply = comment_post(draft=draft, author=cast.creator, body="y", parent=thread)
    assert comment_resolve(comment=reply, by=cast.creator) is True
    assert comment_resolve(comment=thread, by=cast.art_director) is False
    thread.refresh_from_db()
    assert thread.is_resolved and thread.resolved_by == cast.creator
    assert comment_reopen(comment=thread, by=cast.reviewer) is True
    assert comment_reopen(comment=thread, by=cast.reviewer) is False


def test_the_draft_page_shows_threads_and_the_comment_form(cast, draft):
    thread = comment_post(draft=draft, author=cast.reviewer, body="Check the label")
    comment_post(draft=draft, author=cast.creator, body="On it", parent=thread)
    page = cast.client("producer").get(reverse("drafts:detail", args=[draft.pk]))
    assert 'id="comments"' in page.text and "Check the label" in page.text and "On it" in page.text
    assert 'id="comment-form"' in page.text


def test_any_member_posts_replies_resolves_and_reopens_through_the_forms(cast, draft):
    client = cast.client("producer")
    url = reverse("comments:draft", args=[draft.pk])
    response = client.post(
        url, {"body": "Hi @creator", "x": "0.1", "y": "0.1", "w": ".2", "h": ".2"}
    )
    thread = Comment.objects.get()
    assert response.url == reverse("drafts:detail", args=[draft.pk]) + f"#comment-{thread.pk}"
    assert thread.has_region
    client.post(url, {"body": "reply", "parent": thread.pk})
    assert thread.replies.count() == 1
    client.post(reverse("comments:resolve", args=[thread.pk]))
    thread.refresh_from_db()
    assert thread.is_resolved
    page = client.get(url)
    assert "Resolved by producer" in page.text and "Reopen" in page.text
    client.post(reverse("comments:reopen", args=[thread.pk]))
    thread.refresh_from_db()
    assert not thread.is_resolved


def test_an_empty_comment_comes_back_with_a_message(cast, draft):
    response = cast.client("reviewer").post(
        reverse("comments:draft", args=[draft.pk]), {"body": ""}, follow=True
    )
    assert "Comment not posted: Write a comment first." in response.text
    assert not Comment.objects.exists()


def test_an_outsider_cannot_read_or_reply_to_a_thread(cast, draft):
    thread = comment_post(draft=draft, author=cast.reviewer, body="x")
    client = cast.client("outsider")
    assert client.get(reverse("comments:draft", args=[draft.pk])).status_code == 404
    assert client.post(reverse("comments:resolve", args=[thread.pk])).status_code == 404


def test_a_reply_naming_another_campaigns_thread_is_404(cast, draft):
    from tests.factories import BatchFactory

    theirs = make_draft(BatchFactory(campaign=cast.other_campaign), name="theirs.png")
    thread = comment_post(draft=theirs, author=cast.outsider, body="x")
    response = cast.client("reviewer").post(
        reverse("comments:draft", args=[draft.pk]), {"body": "y", "parent": thread.pk}
    )
    assert response.status_code == 404 and Comment.objects.count() == 1


def test_the_draft_page_with_comments_runs_a_constant_number_of_queries(
    cast, draft, django_assert_num_queries
):
    run_previews()
    client = cast.client("reviewer")
    url = reverse("drafts:detail", args=[draft.pk])
    thread = comment_post(draft=draft, author=cast.reviewer, body="one @creator")
    comment_post(draft=draft, author=cast.creator, body="reply", parent=thread)
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(10):
        t = comment_post(draft=draft, author=cast.art_director, body=f"thread {n} @reviewer")
        comment_post(draft=draft, author=cast.creator, body="reply", parent=t)
        comment_post(draft=draft, author=cast.reviewer, body="reply", parent=t)
        if n % 2:
            comment_resolve(comment=t, by=cast.reviewer)
    assert Draft.objects.get().comments.count() == 32
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)
