"""The batch grid's bulk decide form (apps/reviews/views.py ``batch_decide``)."""

from django.contrib.messages import get_messages
from django.urls import reverse

from apps.drafts.models import Draft
from apps.reviews.models import Review
from apps.reviews.selectors import decision_version
from apps.reviews.services import review_submit
from tests.factories import BatchFactory, make_draft


def _post(client, batch, drafts, *, query="", **data):
    payload = {
        "draft": [str(d.pk) for d in drafts],
        "query": query,
        **{f"version-{d.pk}": decision_version(d) for d in drafts},
        **data,
    }
    return client.post(reverse("reviews:batch-decide", args=[batch.pk]), payload)


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _three(batch):
    return [make_draft(batch, name=f"d{i}.png") for i in range(3)]


def test_a_reviewer_rejects_the_selected_drafts_and_returns_to_the_same_filtered_grid(cast, batch):
    drafts = _three(batch)
    response = _post(
        cast.client("reviewer"),
        batch,
        drafts,
        query="decision=undecided&sort=softness&fragment=grid&next=https://evil.example/",
        decision="reject",
        note="Off brief",
    )
    assert response.status_code == 302
    assert response.url == reverse("drafts:batch", args=[batch.pk]) + (
        "?decision=undecided&sort=softness"
    )
    assert _said(response) == ["Saved 3 drafts: Reject."]
    assert set(Draft.objects.values_list("decision", flat=True)) == {"reject"}


def test_a_missing_note_saves_nothing_and_says_why(cast, batch):
    drafts = _three(batch)
    response = _post(cast.client("reviewer"), batch, drafts, decision="regenerate")
    assert response.status_code == 302
    assert _said(response) == [
        "Nothing saved: A note is required to regenerate: say what should change or why it "
        "cannot work."
    ]
    assert not Review.objects.exists()


def test_a_draft_decided_meanwhile_is_named_in_a_conflict_message(cast, batch):
    first, changed, last = _three(batch)
    client = cast.client("reviewer")
    payload_drafts = [first, changed, last]
    versions = {d.pk: decision_version(d) for d in payload_drafts}
    review_submit(draft=changed, reviewer=cast.art_director, decision="reject", note="No")
    response = client.post(
        reverse("reviews:batch-decide", args=[batch.pk]),
        {
            "draft": [str(d.pk) for d in payload_drafts],
            **{f"version-{pk}": v for pk, v in versions.items()},
            "decision": "regenerate",
            "note": "Warmer light",
        },
    )
    messages = list(get_messages(response.wsgi_request))
    saved, conflict = messages
    assert str(saved) == "Saved 2 drafts: Regenerate."
    assert "conflict" in conflict.tags
    assert str(conflict).startswith("“d1.png” changed since you loaded the page — now: ")
    assert "decided Reject" in str(conflict)
    changed.refresh_from_db()
    assert changed.decision == "reject"


def test_a_draft_of_another_campaign_refuses_the_whole_post(cast, batch):
    ours = make_draft(batch, name="ours.png")
    theirs = make_draft(BatchFactory(campaign=cast.other_campaign), name="theirs.png")
    response = _post(cast.client("reviewer"), batch, [ours, theirs], decision="keep")
    assert _said(response) == ["Nothing saved: Some of the chosen drafts are not in this campaign."]
    assert not Review.objects.exists()


def test_an_unknown_draft_id_refuses_the_whole_post(cast, batch):
    ours = make_draft(batch, name="ours.png")
    response = cast.client("reviewer").post(
        reverse("reviews:batch-decide", args=[batch.pk]),
        {"draft": [str(ours.pk), "999999"], "decision": "keep"},
    )
    assert response.status_code == 302
    assert not Review.objects.exists()


def test_a_producer_is_forbidden_and_an_outsider_learns_nothing(cast, batch):
    drafts = _three(batch)
    assert _post(cast.client("producer"), batch, drafts, decision="keep").status_code == 403
    assert _post(cast.client("outsider"), batch, drafts, decision="keep").status_code == 404
    assert not Review.objects.exists()


def test_the_grid_offers_the_bulk_form_to_reviewers_only(cast, batch):
    draft = make_draft(batch)
    url = reverse("drafts:batch", args=[batch.pk]) + "?decision=all"
    html = cast.client("reviewer").get(url).text
    assert f'action="{reverse("reviews:batch-decide", args=[batch.pk])}"' in html
    assert f'name="draft" value="{draft.pk}"' in html
    assert f'name="version-{draft.pk}" value="{decision_version(draft)}"' in html
    assert 'name="query" value="decision=all"' in html
    producer = cast.client("producer").get(url).text
    assert reverse("reviews:batch-decide", args=[batch.pk]) not in producer
    assert 'name="draft"' not in producer


def test_hostile_fields_are_refused_with_a_message_and_nothing_saved(cast, batch):
    draft = make_draft(batch)
    client = cast.client("reviewer")
    url = reverse("reviews:batch-decide", args=[batch.pk])
    for data, said in [
        ({"draft": [str(draft.pk)], "decision": "reject", "note": "a\x00b"}, "Null characters"),
        ({"draft": [str(draft.pk)], "decision": "maybe"}, "Choose keep, regenerate or reject."),
        ({"draft": ["²"], "decision": "keep"}, "Choose between 1 and 200 drafts"),
        ({"draft": [str(10**30)], "decision": "keep"}, "Choose between 1 and 200 drafts"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 302
        assert said in _said(response)[-1]
    assert not Review.objects.exists()


def test_the_campaign_search_decides_drafts_of_several_batches_and_returns_to_the_search(
    cast, batch
):
    other = BatchFactory(campaign=cast.campaign)
    drafts = [make_draft(batch, name="a.png"), make_draft(other, name="b.png")]
    response = cast.client("reviewer").post(
        reverse("reviews:campaign-decide", args=[cast.campaign.pk]),
        {
            "draft": [str(d.pk) for d in drafts],
            "query": "q=can&decision=undecided",
            **{f"version-{d.pk}": decision_version(d) for d in drafts},
            "decision": "reject",
            "note": "Off brief",
        },
    )
    assert response.url == reverse("drafts:search", args=[cast.campaign.pk]) + (
        "?q=can&decision=undecided"
    )
    assert _said(response) == ["Saved 2 drafts: Reject."]
    assert set(Draft.objects.values_list("decision", flat=True)) == {"reject"}


def test_the_search_page_offers_the_bulk_form_to_those_who_decide_only(cast, batch):
    make_draft(batch, name="a.png")
    url = reverse("drafts:search", args=[cast.campaign.pk])
    action = reverse("reviews:campaign-decide", args=[cast.campaign.pk])
    reviewer_page = cast.client("reviewer").get(url).content.decode()
    assert f'action="{action}"' in reviewer_page and 'name="draft"' in reviewer_page
    producer_page = cast.client("producer").get(url).content.decode()
    assert "bulk-form" not in producer_page
