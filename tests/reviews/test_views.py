import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.reviews.models import Review
from tests.factories import BatchFactory, make_draft


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
    # By default a keep needs an art director's sign-off: proposed, not counted yet.
    assert (body["decision"], body["proposed"], body["decided_by"]) == ("", "keep", "reviewer")
    assert body["decision_label"] == "Keep (awaiting sign-off)"
    assert "Keep (awaiting sign-off)" in body["decision_html"]
    assert "clear idea" in body["history_html"]
    draft.refresh_from_db()
    assert draft.decision == "" and draft.decided_by is None
    assert draft.proposed_decision == "keep" and draft.proposed_by == cast.reviewer


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


HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


def test_regions_posted_with_a_decision_are_saved_and_come_back_in_the_answer(cast, batch):
    import json

    draft = make_draft(batch)
    response = _decide(
        cast.client("reviewer"),
        draft,
        decision="regenerate",
        note="hands",
        regions=json.dumps([HANDS]),
    )
    body = response.json()
    assert response.status_code == 200 and body["decision"] == "regenerate"
    (region,) = body["regions"]
    assert region["category"] == "hands" and region["current"] is True
    assert "six fingers" in body["regions_html"] and "1 marked region" in body["history_html"]
    assert Review.objects.get().regions.count() == 1


def test_a_bad_region_refuses_the_whole_decision(cast, batch):
    draft = make_draft(batch)
    response = _decide(cast.client("reviewer"), draft, decision="keep", regions='[{"x": 1}]')
    assert response.status_code == 400 and "category" in response.json()["error"]
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("regions", "error"),
    [
        ("[" * 5000 + "]" * 5000, "could not be read"),  # once a RecursionError
        (json.dumps([{**HANDS, "x": 10**400}]), "needs a number"),  # once an OverflowError
        (json.dumps([{**HANDS, "note": "\ud800"}]), "cannot be saved"),  # no UTF-8 for it
        (json.dumps([{**HANDS, "note": "a\x00b"}]), "cannot be saved"),  # PostgreSQL refuses NUL
    ],
    ids=["deeply-nested", "huge-integer", "lone-surrogate", "nul"],
)
def test_regions_json_that_cannot_be_read_or_stored_is_refused_with_a_400(
    cast, batch, regions, error
):
    draft = make_draft(batch)
    response = _decide(
        cast.client("reviewer"), draft, decision="reject", note="no", regions=regions
    )
    assert response.status_code == 400 and error in response.json()["error"]
    assert not Review.objects.exists()


def test_the_regions_json_lists_every_marked_region_for_members(cast, batch):
    from apps.reviews.services import review_submit

    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="x", regions=[HANDS])
    body = cast.client("producer").get(reverse("reviews:regions", args=[draft.pk])).json()
    assert [r["note"] for r in body["regions"]] == ["six fingers"]
    assert (
        cast.client("outsider").get(reverse("reviews:regions", args=[draft.pk])).status_code == 404
    )


def test_an_art_director_signs_off_a_waiting_keep_from_the_draft_page(cast, batch):
    draft = make_draft(batch)
    _decide(cast.client("reviewer"), draft, decision="keep")
    url = reverse("drafts:detail", args=[draft.pk])
    assert 'id="sign-off-button"' not in cast.client("reviewer").get(url).text
    page = cast.client("art_director").get(url).text
    assert "Keep (awaiting sign-off)" in page and 'id="sign-off-button"' in page
    response = cast.client("art_director").post(reverse("reviews:sign-off", args=[draft.pk]))
    assert response.status_code == 302 and response.url == url
    page = cast.client("creator").get(url).text
    assert "signed off by art_director" in page and "awaiting sign-off" not in page
    draft.refresh_from_db()
    assert (draft.decision, draft.decided_by) == ("keep", cast.reviewer)


def test_signing_off_with_nothing_waiting_says_so(cast, batch):
    draft = make_draft(batch)
    client = cast.client("art_director")
    response = client.post(reverse("reviews:sign-off", args=[draft.pk]), follow=True)
    assert "No decision is waiting for sign-off" in response.text


def test_the_draft_page_shows_where_reviewers_disagree(cast, batch):
    draft = make_draft(batch)
    _decide(cast.client("reviewer"), draft, decision="keep", composition_rating="pass")
    _decide(
        cast.client("art_director"),
        draft,
        decision="regenerate",
        note="cropped",
        composition_rating="fail",
    )
    page = cast.client("producer").get(reverse("drafts:detail", args=[draft.pk])).text
    page = " ".join(page.split())
    assert "2 reviewers: 1 regenerate, 1 keep." in page
    assert "Disagree on composition and the decision." in page


def test_art_directors_set_the_sign_off_rule_and_the_product_reference(cast):
    from apps.reviews.selectors import review_settings_for
    from tests.images import png_bytes

    url = reverse("reviews:settings", args=[cast.campaign.pk])
    client = cast.client("art_director")
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "rule", "sign_off": "none"}).status_code == 302
    assert review_settings_for(cast.campaign).sign_off == "none"
    assert client.post(url, {"action": "rule", "sign_off": "maybe"}).status_code == 400

    upload = SimpleUploadedFile("can.png", png_bytes(color=(1, 2, 3)), content_type="image/png")
    assert client.post(url, {"action": "reference", "file": upload}).status_code == 302
    image = cast.client("creator").get(
        reverse("reviews:product-reference", args=[cast.campaign.pk])
    )
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    bad = SimpleUploadedFile("notes.png", b"plain text", content_type="image/png")
    page = client.post(url, {"action": "reference", "file": bad}, follow=True).text
    assert "Not saved: This file is not a recognised image" in page
    assert review_settings_for(cast.campaign).product_reference_name == "can.png"


def test_a_decision_from_an_out_of_date_tab_gets_409_with_what_changed(cast, batch):
    draft = make_draft(batch)
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[draft.pk])).text
    seen = re.search(r'name="version" id="decision-version" value="([0-9a-f]+)"', page)
    assert seen is not None
    first = _decide(cast.client("art_director"), draft, decision="keep", version=seen[1])
    assert first.status_code == 200
    stale = _decide(
        cast.client("reviewer"), draft, decision="reject", note="label", version=seen[1]
    )
    body = stale.json()
    assert stale.status_code == 409 and body["conflict"] and not body["ok"]
    assert "Not saved" in body["error"] and "decided Keep" in body["error"]
    # The page parts as they are now, and the token to decide again with.
    assert "Keep" in body["decision_html"] and body["version"] == first.json()["version"]
    draft.refresh_from_db()
    assert draft.decision == "keep" and draft.reviews.count() == 1


def test_a_form_post_from_an_out_of_date_page_comes_back_with_a_conflict_message(cast, batch):
    draft = make_draft(batch)
    url = reverse("drafts:detail", args=[draft.pk])
    client = cast.client("reviewer")
    seen = re.search(r'id="decision-version" value="([0-9a-f]+)"', client.get(url).text)[1]  # type: ignore[index]
    cast.client("art_director").post(
        reverse("reviews:create", args=[draft.pk]), {"decision": "reject", "note": "label"}
    )
    response = client.post(
        reverse("reviews:create", args=[draft.pk]), {"decision": "keep", "version": seen}
    )
    assert response.status_code == 302 and response.url == url
    page = client.get(url).text
    assert "msg-conflict" in page and "decided Reject" in page
    draft.refresh_from_db()
    assert (draft.decision, draft.proposed_decision) == ("reject", "")


def test_a_sign_off_from_a_page_older_than_the_decision_is_refused(cast, batch):
    draft = make_draft(batch)
    _decide(cast.client("reviewer"), draft, decision="keep")
    url = reverse("drafts:detail", args=[draft.pk])
    art_director = cast.client("art_director")
    page = art_director.get(url).text
    seen = re.search(r'name="version" value="([0-9a-f]+)"', page)[1]  # type: ignore[index]
    _decide(cast.client("reviewer"), draft, decision="reject", note="label after all")
    response = art_director.post(
        reverse("reviews:sign-off", args=[draft.pk]),
        {"version": seen},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409 and "decided Reject" in response.json()["error"]
    draft.refresh_from_db()
    assert draft.decision == "reject" and draft.signed_off_by is None


def test_the_headline_is_the_decision_that_counts_not_the_one_awaiting_sign_off(cast, batch):
    draft = make_draft(batch)
    _decide(cast.client("art_director"), draft, decision="reject", note="label")
    body = _decide(cast.client("reviewer"), draft, decision="keep").json()
    assert body["decision"] == "reject" and body["proposed"] == "keep"
    html = body["decision_html"]
    headline = re.search(r'id="current-decision"[^>]*>([^<]+)<', html)
    assert headline is not None and headline[1] == "Reject"
    assert 'id="proposed-decision"' in html and "Keep (awaiting sign-off)" in html


def test_after_a_decision_the_answer_points_to_the_next_undecided_draft(cast, batch):
    first, decided, third = make_draft(batch), make_draft(batch), make_draft(batch)
    _decide(cast.client("art_director"), decided, decision="keep")
    body = _decide(cast.client("reviewer"), first, decision="keep").json()
    # The decided draft in between is passed over; the person moves on by default.
    assert body["next_url"] == reverse("drafts:detail", args=[third.pk])
    assert body["stay"] is False


def test_the_next_undecided_draft_comes_round_from_the_start_of_the_batch(cast, batch):
    skipped, last = make_draft(batch), make_draft(batch)
    body = _decide(cast.client("art_director"), last, decision="keep").json()
    assert body["next_url"] == reverse("drafts:detail", args=[skipped.pk])


def test_the_last_decision_of_a_batch_points_to_the_summary(cast, batch):
    only = make_draft(batch)
    body = _decide(cast.client("reviewer"), only, decision="keep").json()
    # A keep awaiting sign-off is not undecided for a reviewer: nothing is left to look at.
    assert body["next_url"] == reverse("reviews:batch-summary", args=[batch.pk])


def test_a_person_who_prefers_to_stay_is_told_to_stay(cast, batch):
    client = cast.client("reviewer")
    response = client.post(
        reverse("reviews:preferences"),
        {"stay_after_decision": "1", "next": f"/batches/{batch.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/batches/{batch.pk}/"
    body = _decide(client, make_draft(batch), decision="keep").json()
    assert body["stay"] is True
    page = client.get(reverse("drafts:detail", args=[make_draft(batch).pk]))
    assert "stay on this draft" in page.content.decode()
    client.post(reverse("reviews:preferences"), {"stay_after_decision": "0"})
    assert _decide(client, make_draft(batch), decision="keep").json()["stay"] is False


def test_the_summary_counts_decisions_and_says_what_waits_on_whom(cast, batch):
    kept, waiting, rejected, open_ = (make_draft(batch) for _ in range(4))
    _decide(cast.client("art_director"), kept, decision="keep")
    _decide(cast.client("reviewer"), waiting, decision="keep")
    _decide(cast.client("art_director"), rejected, decision="reject", note="wrong can")
    html = cast.client("producer").get(reverse("reviews:batch-summary", args=[batch.pk]))
    text = html.content.decode()
    assert html.status_code == 200
    assert re.search(r'data-decision="keep"><strong>1</strong>', text)
    assert re.search(r'data-decision="reject"><strong>1</strong>', text)
    # Undecided counts both drafts without a counted decision; one of them waits on sign-off.
    assert re.search(r'data-decision="undecided"><strong>2</strong>', text)
    assert "Awaiting an art director's sign-off (1)" in text
    assert "Still undecided (1)" in text
    assert waiting.original_name[:20] in text and open_.original_name[:20] in text


def _focused_action(html: str) -> tuple[str, str]:
    match = re.search(r'<a class="button[^"]*" id="([^"]+)" href="([^"]+)"[^>]*autofocus', html)
    assert match is not None, "no next action has the focus"
    return match[1], match[2]


def test_the_summary_focuses_the_drafts_left_first_then_the_next_batch(cast, batch):
    skipped, decided = make_draft(batch), make_draft(batch)
    next_batch = BatchFactory(campaign=cast.campaign, name="Round 2")
    client = cast.client("reviewer")
    _decide(client, decided, decision="reject", note="Glass bottle")
    url = reverse("reviews:batch-summary", args=[batch.pk])
    text = client.get(url).content.decode()
    assert _focused_action(text) == ("decide-left", reverse("drafts:detail", args=[skipped.pk]))
    assert "Decide the 1 left" in text
    assert text.count("autofocus") == 1
    _decide(client, skipped, decision="keep")  # awaits sign-off: nothing left to look at
    text = client.get(url).content.decode()
    assert _focused_action(text) == ("next-batch", reverse("drafts:batch", args=[next_batch.pk]))
    assert "(1 awaiting sign-off)" in text
    assert text.count("autofocus") == 1


def test_the_summary_of_the_last_batch_focuses_the_way_back_to_its_grid(cast, batch):
    _decide(cast.client("art_director"), make_draft(batch), decision="keep")
    text = cast.client("reviewer").get(reverse("reviews:batch-summary", args=[batch.pk]))
    html = text.content.decode()
    assert _focused_action(html) == ("back-to-grid", reverse("drafts:batch", args=[batch.pk]))
    assert "awaiting sign-off)" not in html


def test_the_sign_off_queue_lists_waiting_decisions_and_signs_off_the_selected(cast, batch):
    first, second, stale = make_draft(batch), make_draft(batch), make_draft(batch)
    for draft in (first, second, stale):
        _decide(cast.client("reviewer"), draft, decision="keep")
    client = cast.client("art_director")
    url = reverse("reviews:sign-off-queue", args=[cast.campaign.pk])
    page = client.get(url).content.decode()
    assert "Awaiting your sign-off (3)" in page
    tokens = dict(re.findall(r'name="version-(\d+)" value="([^"]+)"', page))
    # Someone decides the third draft again after the queue was shown: its token is stale.
    _decide(cast.client("reviewer"), stale, decision="regenerate", note="label")
    response = client.post(
        url,
        {
            "draft": [first.pk, second.pk, stale.pk],
            **{f"version-{pk}": token for pk, token in tokens.items()},
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Signed off 2 decisions." in text and "Not saved: this changed" in text
    for draft, decision in ((first, "keep"), (second, "keep"), (stale, "regenerate")):
        draft.refresh_from_db()
        assert draft.decision == decision
    assert "Nothing waits for your sign-off." in text


def test_a_row_s_own_button_signs_off_that_row_only(cast, batch):
    first, second = make_draft(batch), make_draft(batch)
    for draft in (first, second):
        _decide(cast.client("reviewer"), draft, decision="keep")
    client = cast.client("art_director")
    url = reverse("reviews:sign-off-queue", args=[cast.campaign.pk])
    tokens = dict(
        re.findall(r'name="version-(\d+)" value="([^"]+)"', client.get(url).content.decode())
    )
    client.post(
        url,
        {"one": first.pk, "draft": [second.pk], **{f"version-{k}": v for k, v in tokens.items()}},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.decision, second.decision) == ("keep", "")
    campaign_page = client.get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    assert "Sign-off queue (1)" in campaign_page.content.decode()


def test_a_sign_off_naming_ids_that_are_not_plain_digits_is_a_message_not_an_error(cast, batch):
    client = cast.client("art_director")
    url = reverse("reviews:sign-off-queue", args=[cast.campaign.pk])
    response = client.post(url, {"draft": ["²", "9" * 40, "-1"]}, follow=True)
    assert response.status_code == 200
    assert "Choose at least one decision to sign off." in response.content.decode()


def test_the_decision_block_and_history_name_people_by_their_full_names(cast, batch):
    cast.reviewer.first_name, cast.reviewer.last_name = "Rhea", "Reviewer"
    cast.reviewer.save(update_fields=["first_name", "last_name"])
    cast.art_director.first_name, cast.art_director.last_name = "Ada", "Director"
    cast.art_director.save(update_fields=["first_name", "last_name"])
    draft = make_draft(batch)
    body = _decide(cast.client("reviewer"), draft, decision="keep").json()
    assert "by Rhea Reviewer" in body["decision_html"]
    assert "by Rhea Reviewer" in body["history_html"]
    cast.client("art_director").post(reverse("reviews:sign-off", args=[draft.pk]))
    page = cast.client("creator").get(reverse("drafts:detail", args=[draft.pk])).text
    decider = re.search(r'<span id="current-decider"[^>]*>(.*?)</span>', page, re.S)
    assert decider is not None
    assert "by Rhea Reviewer" in decider.group(1)
    assert "signed off by Ada Director" in decider.group(1)
    history = page[page.index('class="reviews"') :]
    assert "by Rhea Reviewer" in history and "signed off by Ada Director" in history
    assert "by reviewer" not in page and "by art_director" not in page
