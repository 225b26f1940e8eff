"""Bulk decide from the batch grid: ``review_submit_many`` (apps/reviews/services.py)."""

import pytest

from apps.core.errors import Refusal
from apps.drafts.models import Draft
from apps.reviews.models import Review
from apps.reviews.selectors import decision_version
from apps.reviews.services import review_submit, review_submit_many
from tests.factories import BatchFactory, make_draft


def _shown(*drafts):
    """Each draft with the version token its grid card showed."""
    return [(d, decision_version(d)) for d in drafts]


def _three(batch):
    return [make_draft(batch, name=f"d{i}.png") for i in range(3)]


def test_a_reviewer_rejects_three_drafts_with_one_note(cast, batch):
    drafts = _three(batch)
    results = review_submit_many(
        campaign=cast.campaign,
        drafts=_shown(*drafts),
        reviewer=cast.reviewer,
        decision="reject",
        note="Off brief: the can is green",
    )
    assert [(r.draft_id, r.ok, r.message) for r in results] == [
        (d.pk, True, "Reject") for d in drafts
    ]
    assert set(Draft.objects.values_list("decision", flat=True)) == {"reject"}
    assert set(Review.objects.values_list("note", flat=True)) == {"Off brief: the can is green"}


def test_a_keep_follows_the_campaigns_sign_off_rule_as_one_decision_does(cast, batch):
    drafts = _three(batch)
    results = review_submit_many(
        campaign=cast.campaign, drafts=_shown(*drafts), reviewer=cast.reviewer, decision="keep"
    )
    assert {r.message for r in results} == {"Keep (awaiting sign-off)"}
    assert set(Draft.objects.values_list("proposed_decision", flat=True)) == {"keep"}


def test_a_missing_note_refuses_the_whole_request_and_saves_nothing(cast, batch):
    drafts = _three(batch)
    with pytest.raises(Refusal, match="A note is required to regenerate"):
        review_submit_many(
            campaign=cast.campaign,
            drafts=_shown(*drafts),
            reviewer=cast.reviewer,
            decision="regenerate",
            note="   ",
        )
    assert not Review.objects.exists()
    assert set(Draft.objects.values_list("decision", flat=True)) == {""}


def test_a_draft_decided_meanwhile_is_reported_and_the_others_are_saved(cast, batch):
    first, changed, last = _three(batch)
    shown = _shown(first, changed, last)
    review_submit(draft=changed, reviewer=cast.art_director, decision="reject", note="No")
    results = review_submit_many(
        campaign=cast.campaign,
        drafts=shown,
        reviewer=cast.reviewer,
        decision="regenerate",
        note="Warmer light",
    )
    assert [(r.draft_id, r.ok) for r in results] == [
        (first.pk, True),
        (changed.pk, False),
        (last.pk, True),
    ]
    stale = results[1].message
    assert stale.startswith("changed since you loaded the page — now: ")
    assert "art_director decided Reject" in stale and stale.endswith("Not saved.")
    decisions = dict(Draft.objects.values_list("pk", "decision"))
    assert decisions == {first.pk: "regenerate", changed.pk: "reject", last.pk: "regenerate"}


def test_an_outsider_is_refused_and_nothing_is_saved(cast, batch):
    drafts = _three(batch)
    with pytest.raises(Refusal, match="cannot decide"):
        review_submit_many(
            campaign=cast.campaign,
            drafts=_shown(*drafts),
            reviewer=cast.outsider,
            decision="keep",
        )
    assert not Review.objects.exists()


def test_a_producer_cannot_decide_either(cast, batch):
    with pytest.raises(Refusal, match="cannot decide"):
        review_submit_many(
            campaign=cast.campaign,
            drafts=_shown(*_three(batch)),
            reviewer=cast.producer,
            decision="keep",
        )


def test_a_draft_of_another_campaign_refuses_the_whole_request(cast, batch):
    ours = make_draft(batch, name="ours.png")
    theirs = make_draft(BatchFactory(campaign=cast.other_campaign), name="theirs.png")
    with pytest.raises(Refusal, match="not in this campaign"):
        review_submit_many(
            campaign=cast.campaign,
            drafts=_shown(ours, theirs),
            reviewer=cast.reviewer,
            decision="reject",
            note="No",
        )
    assert not Review.objects.exists()


def test_nothing_chosen_is_refused(cast):
    with pytest.raises(Refusal, match="at least one"):
        review_submit_many(
            campaign=cast.campaign, drafts=[], reviewer=cast.reviewer, decision="keep"
        )
