import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.campaigns.models import AuditEvent, Membership
from apps.core.errors import Refusal, StaleView
from apps.drafts.models import Draft
from apps.reviews.services import review_sign_off, review_submit
from apps.rework.models import Assignment, Notification, NotificationKind
from apps.rework.runs import notification_email_send
from apps.rework.selectors import (
    compare_choices,
    default_compare_pair,
    draft_lineage,
    inbox_for,
    lineage_path,
    lineage_root,
    notifications_by_draft,
    rework_version,
    unread_notification_count,
)
from apps.rework.services import (
    EMAIL_TASK,
    assignment_cancel,
    assignment_create,
    assignment_submit,
    assignments_remind_overdue,
    draft_reference_mark,
    draft_reference_unmark,
    notifications_mark_read,
)
from tests.factories import BatchFactory, make_draft
from tests.images import png_bytes

HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


def _soon(days=3):
    return timezone.localdate() + timedelta(days=days)


def _assign(cast, draft, **kw):
    values = {
        "draft": draft,
        "assigned_by": cast.art_director,
        "assignee": cast.creator,
        "kind": "regenerate",
        "instructions": "Upright can, label reads FJELL",
        "due_date": _soon(),
    }
    values.update(kw)
    return assignment_create(**values)


# --- assignments -------------------------------------------------------------------------------


def test_an_art_director_assigns_a_regeneration_with_the_marked_regions(cast, batch, mocker):
    draft = make_draft(batch)
    review = review_submit(
        draft=draft, reviewer=cast.reviewer, decision="regenerate", note="hands", regions=[HANDS]
    )
    assignment = _assign(cast, draft, regions=review.regions.all())
    assert assignment.status == "open" and assignment.campaign == cast.campaign
    assert [r.category for r in assignment.regions.all()] == ["hands"]
    assert not assignment.is_overdue
    event = AuditEvent.objects.get(verb="rework.assigned")
    assert event.actor == cast.art_director and "creator" in event.summary
    note = Notification.objects.get(recipient=cast.creator)
    assert note.kind == "assigned" and note.url == f"/assignments/{assignment.pk}/"
    assert "Upright can" in note.body and "1 marked region" in note.body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assignee": "reviewer"}, "who uploads drafts"),
        ({"assignee": "outsider"}, "who uploads drafts"),
        ({"instructions": "   "}, "instructions are required"),
        ({"kind": "redraw"}, "regenerate or edit"),
        ({"due_date": "yesterday"}, "in the past"),
        ({"due_date": "next decade"}, "more than a year away: check the year"),
    ],
)
def test_an_assignment_needs_a_creator_instructions_a_kind_and_a_due_date(
    cast, batch, change, message
):
    draft = make_draft(batch)
    if "assignee" in change:
        change = {"assignee": getattr(cast, change["assignee"])}
    if change.get("due_date") == "yesterday":
        change = {"due_date": _soon(-1)}
    if change.get("due_date") == "next decade":
        change = {"due_date": _soon(3650)}
    with pytest.raises(Refusal, match=message):
        _assign(cast, draft, **change)
    assert not Assignment.objects.exists() and not Notification.objects.exists()


def test_regions_of_another_draft_cannot_travel_with_an_assignment(cast, batch):
    draft, other = make_draft(batch), make_draft(batch)
    review = review_submit(
        draft=other, reviewer=cast.reviewer, decision="reject", note="x", regions=[HANDS]
    )
    with pytest.raises(Refusal, match="Only this draft"):
        _assign(cast, draft, regions=review.regions.all())


def test_the_regenerated_draft_is_a_new_draft_linked_to_its_parent_back_in_review(cast, batch):
    parent = make_draft(batch, name="can.png")
    review_submit(draft=parent, reviewer=cast.art_director, decision="regenerate", note="label")
    assignment = _assign(cast, parent)
    child = assignment_submit(
        assignment=assignment,
        by=cast.creator,
        name="can-v2.png",
        upload=png_bytes(size=(96, 64), color=(9, 9, 9)),
        note="fixed the label",
    )
    assert child.parent == parent and child.batch == parent.batch and child.pk != parent.pk
    assert child.decision == "" and child.uploaded_by == cast.creator
    assert child.preview_job.status == "queued"
    assignment.refresh_from_db()
    assert (assignment.status, assignment.result_draft, assignment.completed_by) == (
        "done",
        child,
        cast.creator,
    )
    parent.refresh_from_db()
    assert parent.decision == "regenerate"  # the parent's history stays as it was
    done = Notification.objects.get(recipient=cast.art_director, kind="rework_done")
    assert done.url == f"/drafts/{child.pk}/" and done.body == "fixed the label"
    # The note is kept with the assignment, not only in the notification.
    assert assignment.result_note == "fixed the label"
    assert assignment.version_note == "fixed the label"


def test_an_edit_is_a_new_revision_of_the_same_draft_back_in_review(cast, batch):
    from apps.drafts.models import Rendition
    from apps.drafts.runs import draft_preview_run

    draft = make_draft(batch, name="can.png")
    draft_preview_run(job_id=draft.preview_job.pk)
    old_sha, old_key = draft.sha256, draft.file_key
    review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    assignment = _assign(cast, draft, kind="edit", instructions="Retouch the hand")
    result = assignment_submit(
        assignment=assignment,
        by=cast.creator,
        name="can-retouched.png",
        upload=png_bytes(size=(100, 60), color=(8, 8, 8)),
        note="hand retouched",
    )
    assert result.pk == draft.pk
    draft.refresh_from_db()
    assert draft.revision == 2 and draft.sha256 != old_sha and draft.file_key != old_key
    assert (draft.width, draft.height) == (100, 60)
    assert (draft.decision, draft.decided_by, draft.proposed_decision) == ("", None, "")
    revisions = list(draft.revisions.all())
    assert [(r.number, r.sha256) for r in revisions] == [(1, old_sha), (2, draft.sha256)]
    assert revisions[0].note == "Original upload" and revisions[1].note == "hand retouched"
    assert revisions[1].created_by == cast.creator
    # Previews of the old file are gone and a new preview job is queued for the new one.
    assert not Rendition.objects.filter(draft=draft).exists()
    assert draft.preview_job.status == "queued" and draft.preview_job.attempts == 0
    assignment.refresh_from_db()
    assert assignment.status == "done" and assignment.result_revision == revisions[1]
    # An edit's note has one home, its revision; the assignment reads it from there.
    assert assignment.result_note == "" and assignment.version_note == "hand retouched"


def test_a_bad_file_leaves_the_assignment_open_and_the_draft_unchanged(cast, batch):
    draft = make_draft(batch)
    assignment = _assign(cast, draft, kind="edit")
    with pytest.raises(Refusal, match="not a recognised image"):
        assignment_submit(assignment=assignment, by=cast.creator, name="x.png", upload=b"text")
    same = draft.sha256
    with pytest.raises(Refusal, match="same file"):
        assignment_submit(
            assignment=assignment,
            by=cast.creator,
            name="x.png",
            upload=_file_of(draft),
        )
    draft.refresh_from_db()
    assignment.refresh_from_db()
    assert draft.sha256 == same and draft.revision == 1 and assignment.status == "open"


def _file_of(draft):
    from django.core.files.storage import default_storage

    with default_storage.open(draft.file_key, "rb") as fh:
        return fh.read()


def test_a_regeneration_that_duplicates_a_draft_is_refused_with_the_intakes_message(cast, batch):
    draft, other = make_draft(batch), make_draft(batch, name="other.png")
    assignment = _assign(cast, draft)
    with pytest.raises(Refusal, match="Already in this campaign"):
        assignment_submit(
            assignment=assignment, by=cast.creator, name="o.png", upload=_file_of(other)
        )
    assignment.refresh_from_db()
    assert assignment.status == "open"


def test_only_the_assignee_or_an_art_director_uploads_the_new_version(cast, batch):
    from tests.factories import MembershipFactory, UserFactory

    draft = make_draft(batch)
    assignment = _assign(cast, draft)
    second_creator = UserFactory(username="creator2")
    MembershipFactory(campaign=cast.campaign, user=second_creator, role="creator")
    for who in (second_creator, cast.reviewer, cast.outsider):
        with pytest.raises(Refusal, match="assigned to"):
            assignment_submit(assignment=assignment, by=who, name="n.png", upload=png_bytes())
    child = assignment_submit(
        assignment=assignment, by=cast.art_director, name="n.png", upload=png_bytes()
    )
    assert child.parent == draft


def test_a_cancelled_assignment_takes_no_upload_and_the_creator_is_told(cast, batch):
    draft = make_draft(batch)
    assignment = _assign(cast, draft)
    assignment_cancel(assignment=assignment, by=cast.art_director)
    assert assignment.status == "cancelled"
    assert Notification.objects.filter(recipient=cast.creator, kind="assignment_cancelled")
    with pytest.raises(Refusal, match="no longer open"):
        assignment_submit(assignment=assignment, by=cast.creator, name="n.png", upload=png_bytes())
    with pytest.raises(Refusal, match="no longer open"):
        assignment_cancel(assignment=assignment, by=cast.art_director)
    assert not Draft.objects.filter(parent=draft).exists()


def test_the_inbox_lists_open_assignments_overdue_first_and_hides_left_campaigns(cast, batch):
    a, b, c = make_draft(batch), make_draft(batch), make_draft(batch)
    late = _assign(cast, a)
    Assignment.objects.filter(pk=late.pk).update(due_date=_soon(-2))
    on_time = _assign(cast, b, due_date=_soon(5))
    done = _assign(cast, c, kind="edit")
    assignment_submit(assignment=done, by=cast.creator, name="e.png", upload=png_bytes())
    inbox = inbox_for(cast.creator)
    assert [x.pk for x in inbox.overdue] == [late.pk] and inbox.overdue[0].is_overdue
    assert [x.pk for x in inbox.open] == [on_time.pk]
    assert [x.pk for x in inbox.recent] == [done.pk]
    assert {x.pk for x in inbox_for(cast.art_director).assigned_by_me} == {late.pk, on_time.pk}
    Membership.objects.filter(user=cast.creator).delete()
    assert inbox_for(cast.creator).open == []


# --- notifications -------------------------------------------------------------------------


def test_a_notification_is_emailed_once_after_commit(
    cast, batch, django_capture_on_commit_callbacks, mocker
):
    cast.creator.email = "cora@example.com"
    cast.creator.save()
    send = mocker.patch("apps.rework.services.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _assign(cast, make_draft(batch))
    send.assert_not_called()  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    calls = [c for c in send.call_args_list if c.args[0] == EMAIL_TASK]
    assert len(calls) == 1
    (notification_id,) = json.loads(json.dumps(calls[0].kwargs["args"]))
    assert notification_email_send(notification_id=notification_id)
    assert not notification_email_send(notification_id=notification_id)  # a redelivery: no-op
    (message,) = mail.outbox
    assert message.to == ["cora@example.com"] and message.subject.startswith("[Draftroom] ")
    assert "Upright can" in message.body and "/assignments/" in message.body
    assert Notification.objects.get(pk=notification_id).email_state == "sent"


def test_people_without_an_address_get_no_email(cast, batch, mocker):
    send = mocker.patch("apps.rework.services.current_app.send_task")
    _assign(cast, make_draft(batch))
    assert Notification.objects.get().email_state == "skipped"
    send.assert_not_called()


def test_decisions_notify_art_directors_then_the_reviewer_and_the_uploader(cast, batch):
    draft = make_draft(batch, by=cast.creator, name="can.png")
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    waiting = Notification.objects.get()
    assert waiting.recipient == cast.art_director and waiting.kind == "awaiting_sign_off"
    assert "awaits your sign-off" in waiting.title
    review_sign_off(draft=draft, by=cast.art_director)
    kinds = dict(
        Notification.objects.exclude(pk=waiting.pk).values_list("recipient__username", "kind")
    )
    assert kinds == {"reviewer": "signed_off", "creator": "decision"}


def test_a_counted_decision_tells_the_uploader_but_never_the_person_who_decided(cast, batch):
    draft = make_draft(batch, by=cast.art_director)
    review_submit(draft=draft, reviewer=cast.art_director, decision="reject", note="bottle")
    assert not Notification.objects.exists()
    other = make_draft(batch, by=cast.creator, name="b.png")
    review_submit(draft=other, reviewer=cast.reviewer, decision="reject", note="bottle")
    (note,) = Notification.objects.all()
    assert note.recipient == cast.creator and note.title == "Reject: “b.png” (decided by reviewer)"


def test_people_mark_only_their_own_notifications_read(cast, batch):
    _assign(cast, make_draft(batch))
    _assign(cast, make_draft(batch))
    theirs = Notification.objects.filter(recipient=cast.creator)
    assert unread_notification_count(cast.creator) == 2
    assert notifications_mark_read(user=cast.outsider, ids=[n.pk for n in theirs]) == 0
    assert notifications_mark_read(user=cast.creator, ids=[theirs[0].pk]) == 1
    assert unread_notification_count(cast.creator) == 1
    assert notifications_mark_read(user=cast.creator) == 1
    assert unread_notification_count(cast.creator) == 0


def test_an_awaits_your_sign_off_notification_resolves_on_sign_off(cast, batch):
    draft = make_draft(batch, by=cast.creator)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    assert unread_notification_count(cast.art_director) == 1
    review_sign_off(draft=draft, by=cast.art_director)
    waiting = Notification.objects.get(kind="awaiting_sign_off")
    assert waiting.resolved_at is not None and waiting.draft == draft
    # Resolved asks need nobody: they no longer count as unread.
    assert unread_notification_count(cast.art_director) == 0


def test_a_waiting_sign_off_resolves_when_a_counted_decision_replaces_it(cast, batch):
    draft = make_draft(batch, by=cast.creator)
    other = make_draft(batch, by=cast.creator)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    review_submit(draft=other, reviewer=cast.reviewer, decision="keep")
    review_submit(draft=draft, reviewer=cast.art_director, decision="reject", note="bottle")
    resolved = dict(
        Notification.objects.filter(kind="awaiting_sign_off").values_list("draft_id", "resolved_at")
    )
    # Only the draft whose counted decision changed: the other still waits.
    assert resolved[draft.pk] is not None and resolved[other.pk] is None


def test_a_newer_proposal_replaces_the_sign_off_asked_for_before(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    asks = Notification.objects.filter(kind="awaiting_sign_off").order_by("id")
    assert [n.resolved_at is None for n in asks] == [False, True]


def test_an_assignment_notification_resolves_on_submit_and_on_cancel(cast, batch):
    submitted = _assign(cast, make_draft(batch))
    cancelled = _assign(cast, make_draft(batch))
    assert unread_notification_count(cast.creator) == 2
    assignment_submit(
        assignment=submitted,
        by=cast.creator,
        name="v2.png",
        upload=png_bytes(size=(96, 64), color=(9, 9, 9)),
    )
    assignment_cancel(assignment=cancelled, by=cast.art_director)
    assigned = Notification.objects.filter(kind="assigned")
    assert all(n.resolved_at is not None for n in assigned)
    # The cancellation itself is news (unread); the asks are done.
    assert unread_notification_count(cast.creator) == 1


def test_notifications_group_by_draft_newest_first(cast, batch):
    first, second = make_draft(batch, by=cast.creator), make_draft(batch, by=cast.creator)
    review_submit(draft=first, reviewer=cast.reviewer, decision="keep")
    review_submit(draft=second, reviewer=cast.reviewer, decision="keep")
    review_submit(draft=first, reviewer=cast.reviewer, decision="keep")
    groups = notifications_by_draft(cast.art_director)
    assert [g.draft for g in groups] == [first, second]
    assert [len(g.items) for g in groups] == [2, 1]
    assert [g.open_count for g in groups] == [1, 1]


# --- references for the next batch ---------------------------------------------------------


def test_a_rejected_draft_becomes_a_reference_for_the_next_batch(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="reject", note="off brief")
    draft_reference_mark(draft=draft, by=cast.reviewer, note="the light")
    assert draft.is_reference and draft.reference_batch is None
    # A draft added to an older batch does not make that batch "the next one".
    make_draft(batch)
    draft.refresh_from_db()
    assert draft.reference_batch is None
    round_2 = BatchFactory(campaign=cast.campaign, name="Round 2")
    make_draft(round_2)
    draft.refresh_from_db()
    assert draft.reference_batch == round_2 and draft.reference_note == "the light"
    # Only the next batch: a later one does not take it over.
    make_draft(BatchFactory(campaign=cast.campaign, name="Round 3"))
    draft.refresh_from_db()
    assert draft.reference_batch == round_2


def test_only_rejected_or_regenerated_drafts_can_be_references(cast, batch):
    kept, parent = make_draft(batch), make_draft(batch)
    review_submit(draft=kept, reviewer=cast.art_director, decision="keep")
    with pytest.raises(Refusal, match="rejected or regenerated"):
        draft_reference_mark(draft=kept, by=cast.reviewer)
    # A draft that was regenerated (it has a child) qualifies whatever its decision.
    make_draft(batch, parent=parent)
    round_2 = BatchFactory(campaign=cast.campaign, name="Round 2")
    draft_reference_mark(draft=parent, by=cast.reviewer, batch=round_2)
    assert parent.reference_batch == round_2
    with pytest.raises(Refusal, match="another batch"):
        draft_reference_mark(draft=parent, by=cast.reviewer, batch=batch)
    draft_reference_unmark(draft=parent, by=cast.reviewer)
    assert not parent.is_reference and parent.reference_batch is None


# --- lineage and compare -------------------------------------------------------------------


def test_the_lineage_is_one_tree_of_regenerations_and_edits_from_any_member(cast, batch):
    root = make_draft(batch, name="root.png")
    child = make_draft(batch, name="child.png", parent=root)
    sibling = make_draft(batch, name="sibling.png", parent=root)
    grandchild = make_draft(batch, name="grand.png", parent=child)
    from apps.drafts.services import draft_revision_add

    draft_revision_add(draft=child, uploaded_by=None, name="c2.png", upload=png_bytes())
    for start in (root, child, grandchild):
        tree = draft_lineage(start)
        assert tree.draft == root
        assert [n.draft.original_name for n in tree.walk()] == [
            "root.png",
            "child.png",
            "grand.png",
            "sibling.png",
        ]
    tree = draft_lineage(sibling)
    assert [r.number for r in tree.children[0].revisions] == [1, 2]
    assert tree.children[1].draft == sibling


def test_the_lineage_path_runs_from_the_root_down_to_the_draft(cast, batch):
    root = make_draft(batch, name="root.png")
    child = make_draft(batch, name="child.png", parent=root)
    make_draft(batch, name="sibling.png", parent=root)
    grandchild = make_draft(batch, name="grand.png", parent=child)
    assert lineage_path(grandchild) == [root, child, grandchild]
    assert lineage_path(root) == [root]
    assert lineage_root(grandchild) == root


def test_the_lineage_path_stops_at_a_parent_in_another_campaign(cast, batch):
    elsewhere = make_draft(BatchFactory(campaign=cast.other_campaign), name="theirs.png")
    draft = make_draft(batch, name="ours.png")
    # Intake never links across campaigns; a row edited by hand must not leak the other one.
    Draft.objects.filter(pk=draft.pk).update(parent=elsewhere)
    draft.refresh_from_db()
    assert lineage_path(draft) == [draft]


def test_compare_offers_every_version_and_the_product_reference(cast, batch):
    from apps.drafts.services import draft_revision_add
    from apps.reviews.services import product_reference_set

    parent = make_draft(batch)
    child = make_draft(batch, parent=parent)
    first = draft_revision_add(draft=child, uploaded_by=None, name="r.png", upload=png_bytes())
    product_reference_set(
        campaign=cast.campaign,
        by=cast.art_director,
        name="can.png",
        upload=png_bytes(color=(5, 5, 5)),
    )
    choices = compare_choices(child)
    keys = [c.key for c in choices]
    original = child.revisions.get(number=1)
    assert keys == [f"d{parent.pk}", f"d{child.pk}", f"r{original.pk}", "product"]
    assert first.number == 2
    assert default_compare_pair(child, choices) == (f"d{parent.pk}", f"d{child.pk}")
    assert default_compare_pair(parent, compare_choices(parent))[0] == "product"


def test_a_due_date_a_year_ahead_is_accepted_and_the_form_offers_that_range(cast, batch):
    from apps.rework.forms import AssignmentForm

    draft = make_draft(batch)
    assert _assign(cast, draft, due_date=_soon(365)).due_date == _soon(365)
    attrs = AssignmentForm(draft=draft).fields["due_date"].widget.attrs
    assert (attrs["min"], attrs["max"]) == (_soon(0).isoformat(), _soon(366).isoformat())


def test_an_assignment_from_a_page_that_missed_another_assignment_is_refused(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.art_director, decision="regenerate", note="hands")
    draft.refresh_from_db()
    seen = rework_version(draft)  # two art directors open the assign page
    _assign(cast, draft, expected_version=seen)
    with pytest.raises(StaleView, match="assigned regenerate to creator"):
        _assign(cast, draft, instructions="Something else", expected_version=seen)
    assert Assignment.objects.filter(draft=draft).count() == 1


def test_an_assignment_from_a_page_older_than_the_decision_is_refused(cast, batch):
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.art_director, decision="regenerate", note="hands")
    draft.refresh_from_db()
    seen = rework_version(draft)
    review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    with pytest.raises(StaleView, match="decided Keep"):
        _assign(cast, draft, expected_version=seen)
    assert not Assignment.objects.exists()


def test_an_assignment_from_the_current_page_is_made(cast, batch):
    draft = make_draft(batch)
    assignment = _assign(cast, draft, expected_version=rework_version(draft))
    assert assignment.pk and rework_version(draft).endswith(f".{assignment.pk}")


def test_an_overdue_assignment_reminds_its_assignee_once_a_day_in_app_and_by_email(
    cast, batch, django_capture_on_commit_callbacks, mocker
):
    send = mocker.patch("apps.rework.services.current_app.send_task")
    cast.creator.email = "creator@example.com"
    cast.creator.save(update_fields=["email"])
    late = _assign(cast, make_draft(batch, name="late.png"))
    on_time = _assign(cast, make_draft(batch, name="on-time.png", data=png_bytes(color=(9, 9, 9))))
    Assignment.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=2))
    before = Notification.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert assignments_remind_overdue() == 1
        assert assignments_remind_overdue() == 0  # a second run the same day sends nothing
    [reminder] = Notification.objects.order_by("-id")[: Notification.objects.count() - before]
    assert reminder.recipient == cast.creator and reminder.title.startswith("Overdue: ")
    assert (reminder.kind, reminder.assignment_id) == (NotificationKind.OVERDUE, late.pk)
    assert "late.png" in reminder.title and "2 days late" in reminder.body
    assert send.call_args.kwargs["args"] == [reminder.pk]  # the e-mail, after commit

    tomorrow = timezone.localdate() + timedelta(days=1)
    Notification.objects.filter(pk=reminder.pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    assert assignments_remind_overdue(today=tomorrow) == 1  # the next day, once again
    reminded = Notification.objects.filter(kind=NotificationKind.OVERDUE)
    assert not reminded.filter(assignment=on_time).exists()
    # Today's reminder replaces yesterday's; submitting the new version resolves it.
    assert list(reminded.filter(resolved_at__isnull=True)) == [reminded.latest("id")]
    assignment_submit(
        assignment=late, by=cast.creator, name="late-v2.png", upload=png_bytes(color=(1, 2, 3))
    )
    assert not reminded.filter(resolved_at__isnull=True).exists()


def test_notifications_name_the_person_who_decided_by_their_full_name(cast, batch):
    cast.reviewer.first_name, cast.reviewer.last_name = "Rhea", "Reviewer"
    cast.reviewer.save(update_fields=["first_name", "last_name"])
    draft = make_draft(batch, by=cast.creator, name="can.png")
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    waiting = Notification.objects.get()
    assert waiting.title == "Keep of “can.png” by Rhea Reviewer awaits your sign-off"
    review_sign_off(draft=draft, by=cast.art_director)
    told = Notification.objects.get(recipient=cast.creator)
    assert told.title == "Keep: “can.png” (decided by Rhea Reviewer)"
