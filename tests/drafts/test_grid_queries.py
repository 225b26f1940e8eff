"""The batch grid's query count is bounded: the same for 5 drafts as for a full page of 60,
with previews, checks, a stack, comments, decisions and the reviewer's bulk-decide form."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.comments.services import comment_post
from apps.drafts.models import Draft
from apps.reviews.services import review_submit
from tests.core.builders import run_queued
from tests.drafts.builders import generated, run_previews

pytestmark = pytest.mark.usefixtures("channel_presets")


def _add(cast, batch, start: int, stop: int) -> None:
    """Drafts ``start``..``stop - 1``: every third shares one prompt (a stack), every fourth
    has a comment, every fifth a decision."""
    for n in range(start, stop):
        prompt = "sparkling can on snow" if n % 3 == 0 else f"bottle number {n}"
        draft = generated(batch, f"d{n}.png", prompt, seed=n)
        if n % 4 == 0:
            comment_post(draft=draft, author=cast.reviewer, body=f"Label edge {n}?")
        if n % 5 == 0:
            review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="No")
    run_previews()
    run_queued(CheckJob, draft_checks_run)


def _queries(client, url: str, params: dict) -> int:
    cache.clear()  # like with like: no cached counts on either page
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"stacks": "on"}, {"decision": "undecided"}])
def test_the_grid_takes_as_many_queries_for_60_drafts_as_for_5(cast, batch, params):
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])
    _add(cast, batch, 0, 5)
    few = _queries(client, url, params)
    _add(cast, batch, 5, 60)
    assert Draft.objects.count() == 60
    assert _queries(client, url, params) == few
    html = client.get(url, params).text
    if params.get("stacks"):
        assert 'class="stack-count"' in html
    else:
        assert html.count('class="tile-pick"') == html.count('<li class="tile ')
        assert 'class="fit-chip"' in html
