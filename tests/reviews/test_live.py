"""Open pages learn that someone else decided (issue 13): the draft's decision block and the
batch grid answer 304 while the page shows the current version, the fresh fragment once it
moved on, and only to members."""

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
from tests.factories import make_draft

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
