import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.drafts.models import Draft
from apps.drafts.services import draft_revision_add
from apps.reviews.services import review_submit
from apps.rework.models import Assignment, Notification
from apps.rework.services import assignment_create
from tests.factories import BatchFactory, CampaignFactory, make_draft
from tests.images import png_bytes

HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


def _assign(cast, draft, kind="regenerate", **kw):
    return assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=kw.pop("assignee", cast.creator),
        kind=kind,
        instructions="Upright can",
        due_date=timezone.localdate() + timedelta(days=2),
        **kw,
    )


def _png(name="new.png", color=(7, 7, 7)):
    return SimpleUploadedFile(name, png_bytes(color=color), content_type="image/png")


def test_the_assign_page_offers_the_regions_and_creates_the_assignment(cast, batch):
    draft = make_draft(batch)
    review = review_submit(
        draft=draft, reviewer=cast.reviewer, decision="regenerate", note="hands", regions=[HANDS]
    )
    url = reverse("rework:assign", args=[draft.pk])
    client = cast.client("art_director")
    page = client.get(url).text
    assert "Hands: six fingers" in page and 'value="regenerate"' in page
    due = (timezone.localdate() + timedelta(days=4)).isoformat()
    assert f'value="{(timezone.localdate() + timedelta(days=3)).isoformat()}"' in page
    response = client.post(
        url,
        {
            "kind": "edit",
            "assignee": cast.creator.pk,
            "instructions": "Retouch the hand",
            "due_date": due,
            "regions": [r.pk for r in review.regions.all()],
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.kind, assignment.assignee, assignment.due_date.isoformat()) == (
        "edit",
        cast.creator,
        due,
    )
    assert assignment.regions.count() == 1
    page = client.get(reverse("drafts:detail", args=[draft.pk])).text
    assert "Edit</a> for creator" in page


def test_the_assign_page_refuses_a_reviewer_as_assignee_and_a_past_due_date(cast, batch):
    draft = make_draft(batch)
    client = cast.client("art_director")
    url = reverse("rework:assign", args=[draft.pk])
    base = {"kind": "edit", "instructions": "x", "due_date": timezone.localdate().isoformat()}
    response = client.post(url, {**base, "assignee": cast.reviewer.pk})
    assert response.status_code == 400 and "Select a valid choice" in response.text
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(url, {**base, "assignee": cast.creator.pk, "due_date": yesterday})
    assert response.status_code == 400 and "The due date is in the past." in response.text
    assert not Assignment.objects.exists()


def test_the_creator_uploads_the_regenerated_version_and_lands_on_the_new_draft(cast, batch):
    parent = make_draft(batch)
    assignment = _assign(cast, parent)
    client = cast.client("creator")
    page = client.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert 'id="submit-form"' in page and "linked to #" in page
    response = client.post(
        reverse("rework:submit", args=[assignment.pk]), {"file": _png(), "note": "new take"}
    )
    child = Draft.objects.get(parent=parent)
    assert response.status_code == 302 and response.url == reverse("drafts:detail", args=[child.pk])
    page = client.get(response.url).text
    assert "Regenerated from" in page and "compare with parent" in page
    # Once done, the assignment page shows the result instead of the upload form.
    page = client.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert 'id="submit-form"' not in page and f"draft #{child.pk}" in page


def test_a_bad_upload_answers_with_the_intakes_message_and_keeps_the_assignment_open(cast, batch):
    assignment = _assign(cast, make_draft(batch), kind="edit")
    client = cast.client("creator")
    bad = SimpleUploadedFile("notes.png", b"just text", content_type="image/png")
    response = client.post(
        reverse("rework:submit", args=[assignment.pk]),
        {"file": bad},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 422 and "not a recognised image" in response.json()["error"]
    bad = SimpleUploadedFile("notes.png", b"just text", content_type="image/png")
    response = client.post(reverse("rework:submit", args=[assignment.pk]), {"file": bad})
    assert response.url == reverse("rework:assignment", args=[assignment.pk])
    assignment.refresh_from_db()
    assert assignment.status == "open"


def test_another_creator_cannot_upload_someone_elses_assignment(cast, batch):
    from tests.factories import MembershipFactory, UserFactory

    other = UserFactory(username="creator2")
    MembershipFactory(campaign=cast.campaign, user=other, role="creator")
    assignment = _assign(cast, make_draft(batch))
    client = cast.client("creator")
    client.force_login(other)
    response = client.post(reverse("rework:submit", args=[assignment.pk]), {"file": _png()})
    assert response.status_code == 403
    page = client.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert 'id="submit-form"' not in page


def test_an_art_director_cancels_an_assignment(cast, batch):
    assignment = _assign(cast, make_draft(batch))
    response = cast.client("art_director").post(reverse("rework:cancel", args=[assignment.pk]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"


def test_the_top_bar_counts_unread_notifications_and_opening_one_reads_it(cast, batch):
    _assign(cast, make_draft(batch))
    client = cast.client("creator")
    page = client.get(reverse("campaigns:list")).text
    assert 'id="unread-count" title="1 unread">1<' in page
    note = Notification.objects.get()
    listing = client.get(reverse("rework:notifications")).text
    assert note.title in listing and "notification unread" in listing
    response = client.post(reverse("rework:notifications-read"), {"id": note.pk, "next": note.url})
    assert response.url == note.url
    assert 'id="unread-count"' not in client.get(reverse("campaigns:list")).text


def test_marking_read_never_redirects_off_site(cast):
    response = cast.client("creator").post(
        reverse("rework:notifications-read"), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("rework:notifications")


@pytest.mark.parametrize("bad_id", ["²", "9" * 30, "9" * 5000, "abc", ""])
def test_marking_read_refuses_a_malformed_id_and_marks_nothing(cast, batch, bad_id):
    _assign(cast, make_draft(batch))
    note = Notification.objects.get()
    response = cast.client("creator").post(
        reverse("rework:notifications-read"),
        {"id": [note.pk, bad_id]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and "is not an id" in response.json()["error"]
    note.refresh_from_db()
    assert note.read_at is None


@pytest.mark.parametrize("target", ["é", "rework:inbox", "notifications"])
def test_marking_read_with_a_next_that_is_not_a_path_goes_to_the_notifications_page(cast, target):
    response = cast.client("creator").post(reverse("rework:notifications-read"), {"next": target})
    assert response.status_code == 302 and response.url == reverse("rework:notifications")


def test_the_assign_page_refuses_a_region_id_beyond_the_database_range(cast, batch):
    draft = make_draft(batch)
    response = cast.client("art_director").post(
        reverse("rework:assign", args=[draft.pk]),
        {
            "kind": "edit",
            "assignee": cast.creator.pk,
            "instructions": "x",
            "due_date": timezone.localdate().isoformat(),
            "regions": ["9" * 30],
        },
    )
    assert response.status_code == 400 and "is not a valid value" in response.text
    assert not Assignment.objects.exists()


def test_the_inbox_and_notifications_pages_take_a_constant_number_of_queries(cast, batch):
    client = cast.client("creator")

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _assign(cast, make_draft(batch))
    few = count(reverse("rework:inbox")), count(reverse("rework:notifications"))
    for _ in range(4):
        _assign(cast, make_draft(batch))
    many = count(reverse("rework:inbox")), count(reverse("rework:notifications"))
    assert few == many
    assert client.get(reverse("rework:inbox")).text.count("assignment-card ") == 5


def test_compare_ignores_versions_from_outside_the_lineage(cast, batch):
    parent = make_draft(batch)
    child = make_draft(batch, parent=parent)
    stranger = make_draft(BatchFactory(campaign=CampaignFactory()))
    client = cast.client("producer")
    url = reverse("rework:compare", args=[child.pk])
    page = client.get(url, {"a": f"d{stranger.pk}", "b": f"d{child.pk}"}).text
    assert f'<option value="d{parent.pk}" selected>' in page
    assert f'value="d{stranger.pk}"' not in page
    assert f"/drafts/{stranger.pk}/" not in page


def test_a_revision_image_is_served_to_members(cast, batch):
    draft = make_draft(batch)
    draft_revision_add(draft=draft, uploaded_by=None, name="e.png", upload=png_bytes())
    first = draft.revisions.get(number=1)
    response = cast.client("producer").get(reverse("rework:revision-image", args=[first.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    page = cast.client("producer").get(reverse("rework:compare", args=[draft.pk])).text
    assert f'<option value="r{first.pk}" selected>' in page


def test_a_reviewer_marks_a_rejected_draft_as_a_reference_shown_on_the_next_batch(cast, batch):
    draft = make_draft(batch, name="moody.png")
    review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="off brief")
    client = cast.client("reviewer")
    assert 'id="use-as-reference"' in client.get(reverse("drafts:detail", args=[draft.pk])).text
    response = client.post(
        reverse("rework:reference", args=[draft.pk]), {"action": "mark", "note": "the light"}
    )
    assert response.status_code == 302
    round_2 = BatchFactory(campaign=cast.campaign, name="Round 2")
    make_draft(round_2)
    page = client.get(reverse("drafts:batch", args=[round_2.pk])).text
    assert "References for this batch" in page and "moody.png: the light" in page
    assert (
        "References for this batch" not in client.get(reverse("drafts:batch", args=[batch.pk])).text
    )


def test_a_kept_draft_offers_no_reference_button(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[draft.pk])).text
    assert 'id="use-as-reference"' not in page
    response = cast.client("reviewer").post(
        reverse("rework:reference", args=[draft.pk]), {"action": "mark"}, follow=True
    )
    assert "Only rejected or regenerated drafts" in response.text


def test_an_assign_page_that_missed_a_decision_answers_409_with_the_form_as_typed(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.art_director, decision="regenerate", note="hands")
    url = reverse("rework:assign", args=[draft.pk])
    client = cast.client("art_director")
    seen = re.search(r'name="version" value="([^"]+)"', client.get(url).text)[1]  # type: ignore[index]
    review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    form = {
        "kind": "edit",
        "assignee": cast.creator.pk,
        "instructions": "Retouch the hand",
        "due_date": (timezone.localdate() + timedelta(days=4)).isoformat(),
        "version": seen,
    }
    response = client.post(url, form)
    assert response.status_code == 409
    page = response.text
    assert 'id="assign-conflict"' in page and "decided Keep" in page
    assert "Retouch the hand" in page
    assert not Assignment.objects.exists()
    # Assigning again from the answer goes through: it carries the current token.
    fresh = re.search(r'name="version" value="([^"]+)"', page)[1]  # type: ignore[index]
    assert fresh != seen
    assert client.post(url, {**form, "version": fresh}).status_code == 302
    assert Assignment.objects.count() == 1


def test_the_creators_note_shows_on_the_new_draft_and_on_the_assignment(cast, batch):
    parent = make_draft(batch)
    assignment = _assign(cast, parent)
    cast.client("creator").post(
        reverse("rework:submit", args=[assignment.pk]),
        {"file": _png(), "note": "Label fixed, rock darker"},
    )
    child = Draft.objects.get(parent=parent)
    reviewer = cast.client("reviewer")
    page = reviewer.get(reverse("drafts:detail", args=[child.pk])).text
    note = re.search(r'<p class="version-note" id="version-note">(.*?)</p>', page, re.S)
    assert note is not None
    assert "Note from creator:</strong> Label fixed, rock darker" in note.group(1)
    # It sits in the decision bar, before the decision buttons.
    assert page.index('id="version-note"') < page.index('id="review-form"')
    assert 'id="version-note"' not in reviewer.get(reverse("drafts:detail", args=[parent.pk])).text
    page = reviewer.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert "Note from creator:</strong> Label fixed, rock darker" in page


def test_an_edits_note_shows_on_the_draft_and_on_the_assignment(cast, batch):
    draft = make_draft(batch)
    assignment = _assign(cast, draft, kind="edit")
    cast.client("creator").post(
        reverse("rework:submit", args=[assignment.pk]),
        {"file": _png(), "note": "Hand retouched"},
    )
    client = cast.client("art_director")
    page = client.get(reverse("drafts:detail", args=[draft.pk])).text
    assert "Note from creator:</strong> Hand retouched" in page
    page = client.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert "Note from creator:</strong> Hand retouched" in page


def test_a_long_note_is_cut_beside_the_decision_and_read_whole_on_the_assignment(cast, batch):
    parent = make_draft(batch)
    assignment = _assign(cast, parent)
    long_note = "Moved the can left. " * 20
    cast.client("creator").post(
        reverse("rework:submit", args=[assignment.pk]), {"file": _png(), "note": long_note}
    )
    child = Draft.objects.get(parent=parent)
    client = cast.client("reviewer")
    page = client.get(reverse("drafts:detail", args=[child.pk])).text
    assert long_note.strip() not in page and "Read it all" in page
    page = client.get(reverse("rework:assignment", args=[assignment.pk])).text
    assert long_note.strip() in page
