from django.urls import reverse

from apps.reviews.models import Review
from tests.factories import make_draft


def _decide(client, draft, **data):
    return client.post(
        reverse("reviews:create", args=[draft.pk]), data, HTTP_ACCEPT="application/json"
    )


def test_a_reviewer_keeps_a_draft_and_gets_the_new_history_back(cast, batch):
    draft = make_draft(batch)
    response = _decide(
        cast.client("reviewer"),
        draft,
        decision="keep",
        concept_rating="pass",
        concept_note="clear idea",
    )
    body = response.json()
    assert response.status_code == 200 and body["ok"]
    assert (body["decision"], body["decided_by"]) == ("keep", "reviewer")
    assert "clear idea" in body["history_html"]
    draft.refresh_from_db()
    assert draft.decision == "keep" and draft.decided_by == cast.reviewer


def test_regenerate_and_reject_need_a_note(cast, batch):
    draft = make_draft(batch)
    response = _decide(cast.client("reviewer"), draft, decision="reject")
    assert response.status_code == 400
    assert "note is required" in response.json()["error"]
    assert not Review.objects.exists()


def test_every_decision_is_kept_and_the_draft_shows_the_latest(cast, batch):
    draft = make_draft(batch)
    _decide(cast.client("reviewer"), draft, decision="regenerate", note="Can is purple")
    _decide(cast.client("art_director"), draft, decision="keep")
    draft.refresh_from_db()
    assert draft.decision == "keep" and draft.decided_by == cast.art_director
    assert list(draft.reviews.values_list("decision", flat=True)) == ["keep", "regenerate"]
    page = cast.client("producer").get(reverse("drafts:detail", args=[draft.pk]))
    assert "Can is purple" in page.text


def test_the_review_records_the_guides_suggestion_next_to_the_decision(cast, batch):
    draft = make_draft(batch)
    _decide(
        cast.client("reviewer"),
        draft,
        decision="keep",
        note="brand wants it",
        brand_fit_rating="fail",
    )
    review = Review.objects.get()
    assert (review.decision, review.suggested) == ("keep", "regenerate")
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[draft.pk]))
    assert "guide suggested regenerate" in page.text


def test_producers_and_creators_cannot_decide(cast, batch):
    draft = make_draft(batch)
    for who in ("producer", "creator"):
        assert _decide(cast.client(who), draft, decision="keep").status_code == 403


def test_an_outsider_gets_404_when_deciding(cast, batch):
    draft = make_draft(batch)
    assert _decide(cast.client("outsider"), draft, decision="keep").status_code == 404


def test_without_javascript_a_decision_redirects_back_to_the_draft(cast, batch):
    draft = make_draft(batch)
    response = cast.client("reviewer").post(
        reverse("reviews:create", args=[draft.pk]), {"decision": "keep"}
    )
    assert response.status_code == 302 and response.url == reverse("drafts:detail", args=[draft.pk])


def test_the_suggest_endpoint_applies_the_guide_to_an_unsaved_checklist(cast, batch):
    draft = make_draft(batch)
    response = cast.client("reviewer").post(
        reverse("reviews:suggest", args=[draft.pk]), {"requirements_fit_rating": "fail"}
    )
    assert response.json()["decision"] == "reject"
    assert not Review.objects.exists()


def test_a_decision_is_written_to_the_audit_trail(cast, batch):
    draft = make_draft(batch, name="hero.png")
    _decide(cast.client("reviewer"), draft, decision="reject", note="Bottle, not can")
    event = cast.campaign.audit_events.get(verb="review.reject")
    assert event.actor == cast.reviewer
    assert "hero.png" in event.summary and "Bottle, not can" in event.summary
