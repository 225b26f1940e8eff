import json

import pytest

from apps.campaigns.models import AuditEvent
from apps.core.errors import Refusal, StaleView
from apps.drafts.models import Draft
from apps.reviews.models import Region, Review, ReviewSettings, SignOff
from apps.reviews.selectors import (
    decision_version,
    draft_consensus,
    draft_regions_export,
    review_settings_for,
)
from apps.reviews.services import (
    product_reference_set,
    review_settings_update,
    review_sign_off,
    review_submit,
)
from tests.factories import make_draft
from tests.images import png_bytes

HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


def _keep(draft, who, **kw):
    return review_submit(draft=draft, reviewer=who, decision="keep", **kw)


# --- marked regions ----------------------------------------------------------------------------


def test_regions_drawn_are_saved_with_the_review_as_fractions_of_the_image(cast, batch):
    draft = make_draft(batch)  # 96 x 64
    review = review_submit(
        draft=draft,
        reviewer=cast.reviewer,
        decision="regenerate",
        note="hands",
        regions=json.dumps([HANDS, {**HANDS, "category": "text_or_logo", "note": ""}]),
    )
    regions = list(review.regions.order_by("id"))
    assert [r.category for r in regions] == ["hands", "text_or_logo"]
    first = regions[0]
    assert (first.x, first.y, first.w, first.h) == pytest.approx((0.1, 0.2, 0.25, 0.5))
    assert (first.image_width, first.image_height, first.revision) == (96, 64, 1)
    assert first.pixel_box() == {"left": 10, "top": 13, "width": 24, "height": 32}
    assert first.note == "six fingers"


def test_a_region_that_spills_over_the_edge_is_cut_at_the_edge(cast, batch):
    draft = make_draft(batch)
    review = _keep(draft, cast.reviewer, regions=[{**HANDS, "x": 0.8, "w": 0.5, "y": -0.1}])
    region = review.regions.get()
    assert (region.x, region.w, region.y) == pytest.approx((0.8, 0.2, 0.0))
    assert region.h == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([{**HANDS, "category": "feet"}], "category"),
        ([{**HANDS, "w": 0}], "empty or outside"),
        ([{**HANDS, "x": 1.5}], "empty or outside"),
        ([{**HANDS, "x": "left"}], "number"),
        ([{**HANDS, "x": float("nan")}], "number"),
        ([{**HANDS, "note": "n" * 1001}], "too long"),
        ("not json", "could not be read"),
        ({"category": "hands"}, "could not be read"),
        ([HANDS] * 51, "at most 50"),
    ],
)
def test_bad_regions_are_refused_and_nothing_is_saved(cast, batch, bad, message):
    draft = make_draft(batch)
    with pytest.raises(Refusal, match=message):
        _keep(draft, cast.reviewer, regions=bad)
    assert not Review.objects.exists() and not Region.objects.exists()


def test_the_regions_export_is_json_for_the_asset_record(cast, batch):
    draft = make_draft(batch)
    review_submit(
        draft=draft, reviewer=cast.reviewer, decision="reject", note="no", regions=[HANDS]
    )
    export = json.loads(json.dumps(draft_regions_export(draft)))
    assert export["draft_id"] == draft.pk and export["current_revision"] == 1
    (region,) = export["regions"]
    assert region["category"] == "hands" and region["category_label"] == "Hands"
    assert region["coordinates"] == "fraction"
    assert region["pixels"] == {"left": 10, "top": 13, "width": 24, "height": 32}
    assert (region["author"], region["decision"], region["revision"]) == ("reviewer", "reject", 1)


# --- several reviewers, one decision ------------------------------------------------------------


def test_by_default_a_reviewers_keep_waits_for_an_art_directors_sign_off(cast, batch):
    draft = make_draft(batch)
    review = _keep(draft, cast.reviewer)
    draft.refresh_from_db()
    assert review.needs_sign_off
    assert (draft.decision, draft.proposed_decision, draft.proposed_by) == (
        "",
        "keep",
        cast.reviewer,
    )
    assert draft.status_label == "Keep (awaiting sign-off)"
    assert "awaiting sign-off" in AuditEvent.objects.get(verb="review.keep").summary


def test_an_art_directors_keep_counts_at_once(cast, batch):
    draft = make_draft(batch)
    review = _keep(draft, cast.art_director)
    draft.refresh_from_db()
    assert not review.needs_sign_off
    assert (draft.decision, draft.decided_by, draft.proposed_decision) == (
        "keep",
        cast.art_director,
        "",
    )


def test_a_reviewers_regenerate_counts_at_once_and_replaces_a_waiting_keep(cast, batch):
    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="regenerate", note="label")
    draft.refresh_from_db()
    assert (draft.decision, draft.proposed_decision) == ("regenerate", "")
    with pytest.raises(Refusal, match="No decision is waiting"):
        review_sign_off(draft=draft, by=cast.art_director)


def test_an_art_director_signs_off_a_waiting_keep_which_stays_the_reviewers(cast, batch):
    draft = make_draft(batch)
    review = _keep(draft, cast.reviewer)
    signed = review_sign_off(draft=draft, by=cast.art_director)
    assert signed == review
    draft.refresh_from_db()
    assert (draft.decision, draft.decided_by, draft.signed_off_by) == (
        "keep",
        cast.reviewer,
        cast.art_director,
    )
    assert draft.proposed_decision == "" and draft.signed_off_at is not None
    assert SignOff.objects.get().review == review
    assert AuditEvent.objects.get(verb="review.signed_off").actor == cast.art_director


def test_only_art_directors_can_sign_off(cast, batch):
    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    with pytest.raises(Refusal, match="Only an art director"):
        review_sign_off(draft=draft, by=cast.reviewer)
    draft.refresh_from_db()
    assert draft.decision == ""


def test_agreeing_with_a_keep_that_already_counts_needs_no_new_sign_off(cast, batch):
    draft = make_draft(batch)
    _keep(draft, cast.art_director)
    review = _keep(draft, cast.reviewer)
    draft.refresh_from_db()
    assert not review.needs_sign_off
    assert (draft.decision, draft.proposed_decision) == ("keep", "")


def test_with_no_sign_off_rule_a_reviewers_keep_counts_at_once(cast, batch):
    review_settings_update(campaign=cast.campaign, by=cast.art_director, sign_off="none")
    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    draft.refresh_from_db()
    assert (draft.decision, draft.decided_by) == ("keep", cast.reviewer)


def test_when_every_decision_needs_sign_off_a_reviewers_reject_waits_too(cast, batch):
    review_settings_update(campaign=cast.campaign, by=cast.art_director, sign_off="all")
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="bottle")
    draft.refresh_from_db()
    assert (draft.decision, draft.proposed_decision) == ("", "reject")


def test_the_default_settings_are_not_stored_until_changed(cast):
    settings = review_settings_for(cast.campaign)
    assert settings.pk is None and settings.sign_off == "keep"
    assert settings.needs_sign_off("keep") and not settings.needs_sign_off("reject")
    review_settings_update(campaign=cast.campaign, by=cast.art_director, sign_off="all")
    assert ReviewSettings.objects.get().sign_off == "all"
    with pytest.raises(Refusal):
        review_settings_update(campaign=cast.campaign, by=cast.art_director, sign_off="x")


def test_the_consensus_puts_each_reviewers_latest_ratings_side_by_side(cast, batch):
    draft = make_draft(batch)
    review_submit(
        draft=draft,
        reviewer=cast.reviewer,
        decision="regenerate",
        note="first look",
        checklist={"concept": {"rating": "fail"}},
    )
    # The reviewer's later review replaces their first one in the comparison.
    _keep(
        draft,
        cast.reviewer,
        checklist={"concept": {"rating": "pass"}, "composition": {"rating": "pass"}},
    )
    review_submit(
        draft=draft,
        reviewer=cast.art_director,
        decision="regenerate",
        note="cropped can",
        checklist={
            "concept": {"rating": "pass"},
            "composition": {"rating": "fail", "note": "can cut off"},
        },
    )
    consensus = draft_consensus(draft)
    assert [r.reviewer.username for r in consensus.reviews] == ["art_director", "reviewer"]
    rows = {row.key: row for row in consensus.rows}
    assert rows["concept"].agreement == "agree"
    assert rows["composition"].agreement == "disagree"
    assert rows["composition"].cells[0] == {"rating": "fail", "note": "can cut off"}
    assert rows["brand_fit"].agreement == ""
    assert consensus.decision_agreement == "disagree"
    assert consensus.disagreements == ["Composition"]
    assert dict(consensus.decision_counts) == {"Keep": 1, "Regenerate": 1}


def test_the_consensus_only_counts_reviews_of_the_current_file(cast, batch):
    from apps.drafts.services import draft_revision_add

    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    draft_revision_add(
        draft=draft, uploaded_by=None, name="e.png", upload=png_bytes(color=(1, 1, 1))
    )
    assert draft_consensus(draft).reviews == []


def test_the_product_reference_image_is_validated_and_stored(cast):
    settings = product_reference_set(
        campaign=cast.campaign, by=cast.art_director, name="../can.png", upload=png_bytes()
    )
    assert settings.product_reference_name == "can.png"
    assert (settings.product_reference_width, settings.product_reference_height) == (64, 48)
    assert settings.product_reference_key.startswith(f"campaigns/{cast.campaign.pk}/")
    with pytest.raises(Refusal):
        product_reference_set(
            campaign=cast.campaign, by=cast.art_director, name="x.png", upload=b"not an image"
        )
    settings.refresh_from_db()
    assert settings.product_reference_name == "can.png"


# --- out-of-date views: a conflict, never a silent overwrite -------------------------------------


def test_a_decision_from_a_second_tab_still_showing_undecided_is_refused_with_what_changed(
    cast, batch
):
    draft = make_draft(batch)
    seen = decision_version(draft)  # both tabs opened on the undecided draft
    review_submit(
        draft=draft,
        reviewer=cast.art_director,
        decision="keep",
        expected_version=seen,
    )
    with pytest.raises(StaleView) as caught:
        review_submit(
            draft=draft,
            reviewer=cast.art_director,
            decision="reject",
            note="no",
            expected_version=seen,
        )
    assert "decided Keep" in caught.value.changes
    draft.refresh_from_db()
    assert draft.decision == "keep" and draft.reviews.count() == 1


def test_a_reviewers_keep_after_the_art_directors_reject_is_refused(cast, batch):
    draft = make_draft(batch)
    reviewers_view = decision_version(draft)
    review_submit(draft=draft, reviewer=cast.art_director, decision="reject", note="label")
    with pytest.raises(StaleView, match="decided Reject"):
        _keep(draft, cast.reviewer, expected_version=reviewers_view)
    draft.refresh_from_db()
    assert (draft.decision, draft.proposed_decision) == ("reject", "")


def test_a_decision_on_the_current_view_is_saved_and_moves_the_version_on(cast, batch):
    draft = make_draft(batch)
    before = decision_version(draft)
    _keep(draft, cast.reviewer, expected_version=before)
    draft.refresh_from_db()
    assert draft.proposed_decision == "keep"
    assert decision_version(draft) != before


def test_a_sign_off_on_a_view_older_than_the_latest_proposal_is_refused(cast, batch):
    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    draft.refresh_from_db()
    art_directors_view = decision_version(draft)
    # Meanwhile the reviewer thinks again: a regenerate, which counts at once.
    review_submit(draft=draft, reviewer=cast.reviewer, decision="regenerate", note="hands")
    with pytest.raises(StaleView, match="decided Regenerate"):
        review_sign_off(draft=draft, by=cast.art_director, expected_version=art_directors_view)
    draft.refresh_from_db()
    assert draft.signed_off_by is None and draft.decision == "regenerate"


def test_a_sign_off_on_the_current_view_counts(cast, batch):
    draft = make_draft(batch)
    _keep(draft, cast.reviewer)
    draft.refresh_from_db()
    review_sign_off(draft=draft, by=cast.art_director, expected_version=decision_version(draft))
    draft.refresh_from_db()
    assert (draft.decision, draft.signed_off_by) == ("keep", cast.art_director)


def test_a_decision_on_a_page_showing_an_earlier_file_is_refused_and_says_which_file_is_current(
    cast, batch
):
    draft = make_draft(batch)
    seen = decision_version(draft)
    Draft.objects.filter(pk=draft.pk).update(revision=2)  # an edit came back meanwhile
    with pytest.raises(StaleView, match="revision 2"):
        _keep(draft, cast.art_director, expected_version=seen)
