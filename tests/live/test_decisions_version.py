"""The live pages' version (apps/drafts/selectors.decisions_version) on PostgreSQL, where the
rows are hashed inside the database: it stays while nothing changes and moves with every
decision, proposal, sign-off, new draft and edit."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.drafts.selectors import batch_decisions_version
from apps.reviews.services import review_sign_off, review_submit
from tests.factories import make_draft

pytestmark = pytest.mark.live


def test_the_version_moves_with_every_change_of_a_decision_and_only_then(cast, batch):
    assert connection.vendor == "postgresql"
    first, second = make_draft(batch, name="a.png"), make_draft(batch, name="b.png")
    seen = [batch_decisions_version(batch.pk)]
    assert batch_decisions_version(batch.pk) == seen[-1]  # nothing changed: the same token

    def moved() -> bool:
        now = batch_decisions_version(batch.pk)
        new = now not in seen
        seen.append(now)
        return new

    review_submit(draft=first, reviewer=cast.reviewer, decision="keep")  # a proposal
    assert moved()
    first.refresh_from_db()
    review_sign_off(draft=first, by=cast.art_director)
    assert moved()
    review_submit(draft=second, reviewer=cast.art_director, decision="reject", note="Off brief")
    assert moved()
    make_draft(batch, name="c.png")
    assert moved()
    type(second).objects.filter(pk=second.pk).update(revision=2)  # an edit's new revision
    assert moved()
    assert batch_decisions_version(batch.pk) == seen[-1]
