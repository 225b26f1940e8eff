"""Open pages learn that someone else decided (issue 13): the draft's decision block (with its
history), the batch grid and the sign-off queue answer 304 while the page shows the current
version, the fresh fragment once it moved on, and only to members."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.comments.services import comment_post
from apps.reviews.selectors import decision_version
from apps.reviews.services import review_sign_off, review_submit
from tests.drafts.builders import run_previews
from tests.factories import BatchFactory, MembershipFactory, UserFactory, make_draft

HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


@pytest.fixture
def draft(batch):
    return make_draft(batch, name="can.png")


def _decision_url(draft) -> str:
    return reverse("reviews:decision", args=[draft.pk])


def _grid_url(batch) -> str:
    return reverse("drafts:batch", args=[batch.pk]) + "?fragment=grid"


def _etag(response) -> str:
    return response["ETag"].strip('"')


def test_the_decision_block_carries_its_version_and_is_never_cached(cast, draft):
    response = cast.client("reviewer").get(_decision_url(draft))
    assert response.status_code == 200
    assert _etag(response) == decision_version(draft)
    assert f'data-version="{decision_version(draft)}"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_decision_block_answers_304_while_the_page_shows_the_current_version(cast, draft):
    client = cast.client("reviewer")
    version = decision_version(draft)
    response = client.get(_decision_url(draft), HTTP_IF_NONE_MATCH=f'"{version}"')
    assert response.status_code == 304
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]


def test_the_version_answer_changes_after_another_persons_decision(cast, draft):
    client = cast.client("reviewer")
    shown = decision_version(draft)
    review_submit(draft=draft, reviewer=cast.art_director, decision="reject", note="off brief")
    response = client.get(_decision_url(draft), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert response.status_code == 200
    assert _etag(response) != shown
    page = response.content.decode()
    assert "Reject" in page and cast.art_director.get_username() in page


def test_a_sign_off_by_someone_else_changes_the_version_too(cast, draft):
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    client = cast.client("reviewer")
    shown = _etag(client.get(_decision_url(draft)))
    draft.refresh_from_db()
    if draft.awaiting_sign_off:
        review_sign_off(draft=draft, by=cast.art_director)
    else:
        review_submit(draft=draft, reviewer=cast.art_director, decision="regenerate", note="x")
    response = client.get(_decision_url(draft), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert response.status_code == 200 and _etag(response) != shown


def test_an_outsider_gets_404_from_the_decision_block_and_the_grid(cast, batch, draft):
    client = cast.client("outsider")
    version = decision_version(draft)
    assert client.get(_decision_url(draft), HTTP_IF_NONE_MATCH=f'"{version}"').status_code == 404
    assert client.get(_grid_url(batch)).status_code == 404


def test_the_decision_block_takes_get_only(cast, draft):
    assert cast.client("reviewer").post(_decision_url(draft)).status_code == 405


def test_the_grid_fragment_answers_304_until_someone_decides_in_the_batch(cast, batch, draft):
    make_draft(batch, name="other.png")
    client = cast.client("reviewer")
    first = client.get(_grid_url(batch))
    assert first.status_code == 200
    shown = _etag(first)
    assert f'data-version="{shown}"' in first.content.decode()
    again = client.get(_grid_url(batch), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert again.status_code == 304

    review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    fresh = client.get(_grid_url(batch), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert fresh.status_code == 200 and _etag(fresh) != shown
    html = fresh.content.decode()
    assert '<span data-count="keep">1</span>' in html
    assert '<span data-count="undecided">1</span>' in html


def test_a_new_draft_in_the_batch_changes_the_grid_version(cast, batch, draft):
    client = cast.client("reviewer")
    shown = _etag(client.get(_grid_url(batch)))
    make_draft(batch, name="late.png")
    assert client.get(_grid_url(batch), HTTP_IF_NONE_MATCH=f'"{shown}"').status_code == 200


def _round(draft, cast, n: int) -> None:
    """A reviewer's proposal and the art director's decision, with regions and a comment thread:
    every round leaves the draft in the same shape with more rows behind it."""
    review_submit(
        draft=draft,
        reviewer=cast.reviewer,
        decision=["regenerate", "reject"][n % 2],
        note=f"round {n}",
        regions=[HANDS, {**HANDS, "x": 0.5, "note": f"r{n}"}],
    )
    review_submit(draft=draft, reviewer=cast.art_director, decision="keep", regions=[HANDS])
    thread = comment_post(draft=draft, author=cast.art_director, body=f"thread {n}")
    comment_post(draft=draft, author=cast.creator, body="reply", parent=thread)


def test_the_status_answers_run_a_constant_number_of_queries(
    cast, batch, django_assert_num_queries
):
    draft = make_draft(batch, name="d.png")
    client = cast.client("reviewer")
    _round(draft, cast, 0)
    with CaptureQueriesContext(connection) as few_block:
        client.get(_decision_url(draft))
    with CaptureQueriesContext(connection) as few_grid:
        client.get(_grid_url(batch), HTTP_IF_NONE_MATCH='"old"')
    # Counted now: the captured list is a window on a log that many rows later has rotated.
    block_queries, grid_queries = len(few_block), len(few_grid)
    for n in range(1, 12):
        _round(draft, cast, n)
        _round(make_draft(batch, name=f"more{n}.png"), cast, n)
    with django_assert_num_queries(block_queries):
        client.get(_decision_url(draft))
    version = _etag(client.get(_grid_url(batch)))
    with django_assert_num_queries(grid_queries):
        client.get(_grid_url(batch), HTTP_IF_NONE_MATCH='"old"')
    # Unchanged: the session, the person, the scoped getter (batch, membership) and the version.
    with django_assert_num_queries(5):
        assert client.get(_grid_url(batch), HTTP_IF_NONE_MATCH=f'"{version}"').status_code == 304


def test_the_draft_page_runs_a_constant_number_of_queries_with_history_regions_and_comments(
    cast, draft, django_assert_num_queries
):
    run_previews()
    client = cast.client("reviewer")
    url = reverse("drafts:detail", args=[draft.pk])
    _round(draft, cast, 0)
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    page_queries = len(few)
    for n in range(1, 12):
        _round(draft, cast, n)
    assert draft.reviews.count() == 24
    cache.clear()
    with django_assert_num_queries(page_queries):
        assert client.get(url).status_code == 200


# --- The sign-off queue follows others (issue 13) --------------------------------------------


def _queue_url(campaign) -> str:
    return reverse("reviews:sign-off-queue", args=[campaign.pk]) + "?fragment=rows"


@pytest.fixture
def second_art_director(cast):
    person = UserFactory(username="second_ad")
    MembershipFactory(campaign=cast.campaign, user=person, role="art_director")
    return person


def _waiting(cast, batch, *names: str) -> list:
    drafts = [make_draft(batch, name=name) for name in names]
    for draft in drafts:
        review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
        draft.refresh_from_db()
        assert draft.awaiting_sign_off
    return drafts


def test_the_queue_rows_carry_their_version_and_answer_304_while_nothing_changes(cast, batch):
    _waiting(cast, batch, "a.png", "b.png")
    client = cast.client("art_director")
    first = client.get(_queue_url(cast.campaign))
    assert first.status_code == 200
    shown = _etag(first)
    html = first.content.decode()
    assert f'data-version="{shown}"' in html and 'data-count="2"' in html
    assert "Awaiting your sign-off (2)" in html and "csrfmiddlewaretoken" in html
    again = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert again.status_code == 304 and again.content == b""


def test_the_queue_answer_drops_a_row_another_art_director_signed_off(
    cast, batch, second_art_director
):
    signed, left = _waiting(cast, batch, "signed.png", "left.png")
    client = cast.client("art_director")
    shown = _etag(client.get(_queue_url(cast.campaign)))

    review_sign_off(draft=signed, by=second_art_director)

    fresh = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert fresh.status_code == 200 and _etag(fresh) != shown
    html = fresh.content.decode()
    assert f'data-draft="{signed.pk}"' not in html
    assert f'data-draft="{left.pk}"' in html
    assert "Awaiting your sign-off (1)" in html


def test_a_row_decided_again_while_waiting_comes_back_with_its_new_token(cast, batch):
    (draft,) = _waiting(cast, batch, "again.png")
    old_token = decision_version(draft)
    client = cast.client("art_director")
    shown = _etag(client.get(_queue_url(cast.campaign)))
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep", note="second look")
    draft.refresh_from_db()
    assert draft.awaiting_sign_off
    fresh = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert fresh.status_code == 200
    # The row's token is the new one: a tick made on the old row cannot sign it off blind.
    html = fresh.content.decode()
    assert f'value="{decision_version(draft)}"' in html and old_token not in html


def test_a_row_decided_again_without_needing_sign_off_leaves_the_queue(cast, batch):
    (draft,) = _waiting(cast, batch, "rejected.png")
    client = cast.client("art_director")
    shown = _etag(client.get(_queue_url(cast.campaign)))
    # The campaign's rule asks sign-off for keeps only: a reject counts at once.
    review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="label")
    fresh = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert fresh.status_code == 200
    assert f'data-draft="{draft.pk}"' not in fresh.content.decode()


def test_a_new_waiting_decision_joins_the_queue_answer(cast, batch):
    _waiting(cast, batch, "first.png")
    client = cast.client("art_director")
    shown = _etag(client.get(_queue_url(cast.campaign)))
    (late,) = _waiting(cast, batch, "late.png")
    fresh = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    assert fresh.status_code == 200
    assert f'data-draft="{late.pk}"' in fresh.content.decode()


def test_the_emptied_queue_answers_with_its_empty_state(cast, batch, second_art_director):
    (draft,) = _waiting(cast, batch, "only.png")
    client = cast.client("art_director")
    shown = _etag(client.get(_queue_url(cast.campaign)))
    review_sign_off(draft=draft, by=second_art_director)
    fresh = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{shown}"')
    html = fresh.content.decode()
    assert "Nothing waits for your sign-off." in html and 'data-count="0"' in html
    assert (
        client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{_etag(fresh)}"').status_code
        == 304
    )


def test_an_outsider_gets_404_and_a_reviewer_403_from_the_queue_rows(cast, batch):
    _waiting(cast, batch, "a.png")
    version = _etag(cast.client("art_director").get(_queue_url(cast.campaign)))
    outsider = cast.client("outsider")
    assert (
        outsider.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{version}"').status_code
        == 404
    )
    assert cast.client("reviewer").get(_queue_url(cast.campaign)).status_code == 403


def test_the_queue_rows_run_a_constant_number_of_queries(
    cast, batch, second_art_director, django_assert_num_queries
):
    _waiting(cast, batch, "a.png")
    client = cast.client("art_director")
    with CaptureQueriesContext(connection) as few:
        client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH='"old"')
    few_queries = len(few)
    # More rows, from more people and batches, some signed off and some decided again.
    other_batch = BatchFactory(campaign=cast.campaign, name="Round 2")
    many = _waiting(cast, batch, *[f"b{n}.png" for n in range(8)])
    many += _waiting(cast, other_batch, *[f"c{n}.png" for n in range(8)])
    for draft in many[:3]:
        review_sign_off(draft=draft, by=second_art_director)
    review_submit(draft=many[5], reviewer=second_art_director, decision="keep")
    with django_assert_num_queries(few_queries):
        response = client.get(_queue_url(cast.campaign), HTTP_IF_NONE_MATCH='"old"')
    # 17 asked, 3 signed off, 1 decided by an art director herself (that counts at once).
    assert 'data-count="13"' in response.content.decode()
    # Unchanged: the session, the person, the membership and the version.
    with django_assert_num_queries(4):
        assert (
            client.get(
                _queue_url(cast.campaign), HTTP_IF_NONE_MATCH=f'"{_etag(response)}"'
            ).status_code
            == 304
        )


def test_the_campaign_link_counts_what_the_queue_shows(cast, batch, second_art_director):
    first, _ = _waiting(cast, batch, "a.png", "b.png")
    review_sign_off(draft=first, by=second_art_director)
    page = cast.client("art_director").get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    assert "Sign-off queue (1)" in page.content.decode()


# --- The draft page's history follows in the same answer -------------------------------------


def test_the_decision_answer_carries_the_review_history(cast, draft):
    client = cast.client("reviewer")
    shown = decision_version(draft)
    review_submit(draft=draft, reviewer=cast.art_director, decision="reject", note="off brief")
    html = client.get(_decision_url(draft), HTTP_IF_NONE_MATCH=f'"{shown}"').content.decode()
    history = html.split('<template id="review-history-now">', 1)[1]
    assert "off brief" in history and cast.art_director.get_username() in history
    assert 'id="decision-now"' in html.split("<template", 1)[0]
