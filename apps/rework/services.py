"""Writes for rework: assignments and their results, references for the next batch, and
notifications (in the app and by e-mail)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import IO, Any

from celery import current_app
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Campaign, Membership
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import membership_for
from apps.campaigns.services import audit_record
from apps.core.errors import Refusal, StaleView
from apps.core.people import person_name
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.services import draft_intake, draft_revision_add
from apps.reviews.hooks import DecisionEvent, DecisionEventKind
from apps.reviews.models import Region
from apps.rework.hooks import assignment_changed
from apps.rework.models import (
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    EmailState,
    Notification,
    NotificationKind,
)
from apps.rework.selectors import rework_changes, rework_version

logger = logging.getLogger(__name__)

EMAIL_TASK = "apps.rework.tasks.notification_email_task"
INSTRUCTIONS_MAX = 4000
# Rework is days or weeks of work; a date further out is almost always a mistyped year.
DUE_WITHIN_DAYS = 366


# --- notifications ---------------------------------------------------------------------------


def notification_send(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    campaign: Campaign | None = None,
    draft: Draft | None = None,
    assignment: Assignment | None = None,
) -> Notification:
    """One notification: in the app at once, by e-mail after the transaction commits."""
    notification = Notification.objects.create(
        recipient=recipient,
        campaign=campaign,
        draft=draft,
        assignment=assignment,
        kind=kind,
        title=title[:300],
        body=body,
        url=url[:500],
        email_state=EmailState.QUEUED if recipient.email else EmailState.SKIPPED,
    )
    if notification.email_state == EmailState.QUEUED:
        pk = notification.pk
        transaction.on_commit(lambda: current_app.send_task(EMAIL_TASK, args=[pk]))
    return notification


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the person's own notifications read (all of them, or those ids); others' are
    never touched, whatever ids arrive."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def notifications_resolve(
    *,
    kinds: Iterable[str],
    draft: Draft | None = None,
    assignment: Assignment | None = None,
) -> int:
    """Notifications whose ask is done resolve themselves: they stop counting as unread (a
    resolved ask needs nobody) and the list shows them as done."""
    if draft is None and assignment is None:
        return 0
    qs = Notification.objects.filter(kind__in=list(kinds), resolved_at__isnull=True)
    if draft is not None:
        qs = qs.filter(draft=draft)
    if assignment is not None:
        qs = qs.filter(assignment=assignment)
    now = timezone.now()
    return qs.update(resolved_at=now, read_at=Coalesce("read_at", Value(now)))


def _members_who_can(campaign_id: int, capability: Can) -> list[User]:
    memberships = Membership.objects.filter(campaign_id=campaign_id).select_related("user")
    return [m.user for m in memberships if role_can(m.role, capability)]


def decision_notify(event: DecisionEvent) -> None:
    """Registered with apps.reviews: tell the people a decision concerns."""
    draft, review, actor = event.draft, event.review, event.actor
    url = reverse("drafts:detail", args=[draft.pk])
    name = draft.original_name
    label = Decision(review.decision).label
    who = person_name(actor)
    note = f"Note: {review.note}" if review.note else ""
    recipients: dict[int, tuple[User, str, str]] = {}
    # Any new decision settles the sign-off asked for before: signed off, superseded by a
    # decision that counts, or replaced by a newer proposal (asked for again below).
    notifications_resolve(kinds=[NotificationKind.AWAITING_SIGN_OFF], draft=draft)
    if event.kind == DecisionEventKind.AWAITING_SIGN_OFF:
        for person in _members_who_can(draft.campaign_id, Can.SIGN_OFF):
            recipients[person.pk] = (
                person,
                NotificationKind.AWAITING_SIGN_OFF,
                f"{label} of “{name}” by {who} awaits your sign-off",
            )
    elif event.kind == DecisionEventKind.SIGNED_OFF and review.reviewer is not None:
        recipients[review.reviewer.pk] = (
            review.reviewer,
            NotificationKind.SIGNED_OFF,
            f"{who} signed off your {label.lower()} of “{name}”",
        )
    # The person who uploaded the draft hears about decisions once they count.
    uploader = draft.uploaded_by
    counts = event.kind != DecisionEventKind.AWAITING_SIGN_OFF
    if counts and uploader is not None and uploader.pk not in recipients:
        decider = person_name(review.reviewer) if review.reviewer else who
        recipients[uploader.pk] = (
            uploader,
            NotificationKind.DECISION,
            f"{label}: “{name}” (decided by {decider})",
        )
    for person, kind, title in recipients.values():
        if person.pk == actor.pk:
            continue
        notification_send(
            recipient=person,
            kind=kind,
            title=title,
            body=note,
            url=url,
            campaign=draft.campaign,
            draft=draft,
        )


# --- assignments -----------------------------------------------------------------------------


def _clean_assignment(
    *, draft: Draft, assignee: User, kind: str, instructions: str, due_date: date
) -> str:
    if kind not in AssignmentKind.values:
        raise Refusal("Choose regenerate or edit.")
    membership = membership_for(assignee, draft.campaign_id)
    if membership is None or not role_can(membership.role, Can.UPLOAD):
        raise Refusal("Assign rework to someone in this campaign who uploads drafts.")
    instructions = instructions.strip()
    if not instructions:
        raise Refusal("Say what should change: the instructions are required.")
    if len(instructions) > INSTRUCTIONS_MAX:
        raise Refusal("The instructions are too long.")
    if due_date < timezone.localdate():
        raise Refusal("The due date is in the past.")
    if due_date > timezone.localdate() + timedelta(days=DUE_WITHIN_DAYS):
        raise Refusal(f"The due date {due_date:%d %b %Y} is more than a year away: check the year.")
    return instructions


@transaction.atomic
def assignment_create(
    *,
    draft: Draft,
    assigned_by: User,
    assignee: User,
    kind: str,
    instructions: str,
    due_date: date,
    regions: Iterable[Region] = (),
    expected_version: str | None = None,
) -> Assignment:
    """Raises StaleView when the draft's decision or its rework moved on since the page the
    assignment was made on (``expected_version``, from selectors.rework_version)."""
    instructions = _clean_assignment(
        draft=draft, assignee=assignee, kind=kind, instructions=instructions, due_date=due_date
    )
    if expected_version is not None:
        # The row lock orders this against a decision or another assignment in flight.
        current = Draft.objects.select_for_update(no_key=True).get(pk=draft.pk)
        if rework_version(current) != expected_version:
            raise StaleView(rework_changes(current))
    chosen = list(regions)
    if any(region.draft_id != draft.pk for region in chosen):
        raise Refusal("Only this draft's marked regions can travel with its rework.")
    assignment = Assignment.objects.create(
        campaign_id=draft.campaign_id,
        draft=draft,
        draft_revision=draft.revision,
        kind=kind,
        assignee=assignee,
        assigned_by=assigned_by,
        instructions=instructions,
        due_date=due_date,
    )
    assignment.regions.set(chosen)
    kind_label = AssignmentKind(kind).label.lower()
    audit_record(
        campaign=draft.campaign,
        actor=assigned_by,
        verb="rework.assigned",
        summary=f"Assigned {kind_label} of “{draft.original_name}” to "
        f"{person_name(assignee)}, due {due_date:%Y-%m-%d}",
        target=assignment,
        data={"draft_id": draft.pk, "regions": len(chosen)},
    )
    notification_send(
        recipient=assignee,
        kind=NotificationKind.ASSIGNED,
        title=f"{AssignmentKind(kind).label} “{draft.original_name}” by {due_date:%d %b %Y}",
        body=f"{person_name(assigned_by)} asks: {instructions}"
        + (f"\n{len(chosen)} marked region(s) attached." if chosen else ""),
        url=reverse("rework:assignment", args=[assignment.pk]),
        campaign=draft.campaign,
        draft=draft,
        assignment=assignment,
    )
    assignment_changed("created", assignment)
    return assignment


OVERDUE_PREFIX = "Overdue: "
# What an assignment's notifications ask of its assignee: done once it is submitted or cancelled.
ASSIGNEE_ASKS = [NotificationKind.ASSIGNED, NotificationKind.OVERDUE]


def assignments_remind_overdue(*, today: date | None = None) -> int:
    """Remind the assignee of every open assignment past its due date, at most once per
    assignment per day (in the app and by e-mail). Safe to run more than once a day: a
    reminder already sent today is found and nothing is sent twice. Returns how many went."""
    today = today or timezone.localdate()
    sent = 0
    overdue = Assignment.objects.filter(
        status=AssignmentStatus.OPEN, due_date__lt=today, assignee__isnull=False
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        with transaction.atomic():
            # The row lock serialises two beat runs racing on one assignment.
            assignment = (
                Assignment.objects.select_for_update()
                .select_related("draft", "assignee", "campaign")
                .filter(pk=pk, status=AssignmentStatus.OPEN)
                .first()
            )
            if assignment is None or assignment.assignee is None:
                continue
            url = reverse("rework:assignment", args=[assignment.pk])
            already = Notification.objects.filter(
                recipient=assignment.assignee,
                kind=NotificationKind.OVERDUE,
                assignment=assignment,
                created_at__date=today,
            ).exists()
            if already:
                continue
            days = (today - assignment.due_date).days
            # Yesterday's reminder is replaced by today's: one overdue line per assignment.
            notifications_resolve(kinds=[NotificationKind.OVERDUE], assignment=assignment)
            notification_send(
                recipient=assignment.assignee,
                kind=NotificationKind.OVERDUE,
                title=f"{OVERDUE_PREFIX}{assignment.get_kind_display()} "
                f"“{assignment.draft.original_name}”, due {assignment.due_date:%d %b %Y}",
                body=f"{days} day{'s' if days != 1 else ''} late. {assignment.instructions}",
                url=url,
                campaign=assignment.campaign,
                draft=assignment.draft,
                assignment=assignment,
            )
            sent += 1
    return sent


@transaction.atomic
def assignment_cancel(*, assignment: Assignment, by: User) -> Assignment:
    updated = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.OPEN).update(
        status=AssignmentStatus.CANCELLED, completed_at=timezone.now(), completed_by=by
    )
    if not updated:
        raise Refusal("This assignment is no longer open.")
    assignment.refresh_from_db()
    notifications_resolve(kinds=ASSIGNEE_ASKS, assignment=assignment)
    audit_record(
        campaign=assignment.campaign,
        actor=by,
        verb="rework.cancelled",
        summary=f"Cancelled the {assignment.get_kind_display().lower()} of "
        f"“{assignment.draft.original_name}”",
        target=assignment,
    )
    if assignment.assignee_id != by.pk:
        notification_send(
            recipient=assignment.assignee,
            kind=NotificationKind.ASSIGNMENT_CANCELLED,
            title=f"Cancelled: {assignment.get_kind_display().lower()} of "
            f"“{assignment.draft.original_name}”",
            url=reverse("rework:assignment", args=[assignment.pk]),
            campaign=assignment.campaign,
            draft=assignment.draft,
            assignment=assignment,
        )
    return assignment


def assignment_can_submit(assignment: Assignment, user: User) -> bool:
    """The assignee uploads the new version; an art director may do it for them."""
    membership = membership_for(user, assignment.campaign_id)
    if membership is None or not role_can(membership.role, Can.UPLOAD):
        return False
    return assignment.assignee_id == user.pk or role_can(membership.role, Can.ASSIGN_REWORK)


def assignment_submit(
    *,
    assignment: Assignment,
    by: User,
    name: str,
    upload: IO[bytes] | bytes,
    size: int | None = None,
    note: str = "",
) -> Draft:
    """The new version: for a regeneration a new draft whose parent is the assignment's draft
    (through the normal intake); for an edit a new revision of the same draft. Either way it
    goes back into review, undecided. Returns the draft to review next. A bad file raises
    Refusal with the intake's message and leaves the assignment open."""
    if not assignment_can_submit(assignment, by):
        raise Refusal("Only the person it is assigned to can upload the new version.")
    if not assignment.is_open:
        raise Refusal("This assignment is no longer open.")
    note = note.strip()[:4000]
    parent = assignment.draft
    if assignment.kind == AssignmentKind.REGENERATE:
        result = draft_intake(
            batch=parent.batch, uploaded_by=by, name=name, upload=upload, size=size, parent=parent
        )
        if result.status != "added" or result.draft is None:
            raise Refusal(result.message)
        target = result.draft
        # The note travels with the assignment that produced the new draft, where the draft
        # page and the assignment page read it (an edit's note is on its revision instead).
        fields: dict[str, Any] = {"result_draft": target, "result_note": note}
    else:
        # A bad file raises Refusal with the intake's message.
        revision = draft_revision_add(
            draft=parent, uploaded_by=by, name=name, upload=upload, size=size, note=note
        )
        target = parent
        fields = {"result_revision": revision, "result_draft": parent}
    with transaction.atomic():
        updated = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.OPEN).update(
            status=AssignmentStatus.DONE,
            completed_at=timezone.now(),
            completed_by=by,
            **fields,
        )
        if not updated:
            # Cancelled while the file was being stored: the version stays, linked to its
            # parent as any upload would; the assignment keeps its cancelled state.
            return target
        assignment.refresh_from_db()
        notifications_resolve(kinds=ASSIGNEE_ASKS, assignment=assignment)
        what = "regenerated" if assignment.kind == AssignmentKind.REGENERATE else "edited"
        audit_record(
            campaign=assignment.campaign,
            actor=by,
            verb="rework.done",
            summary=f"Uploaded the {what} version of “{parent.original_name}”"
            + (f" — {note[:200]}" if note else ""),
            target=assignment,
            data={"draft_id": target.pk, "revision": target.revision},
        )
        assignment_changed("submitted", assignment)
        if assignment.assigned_by is not None and assignment.assigned_by_id != by.pk:
            notification_send(
                recipient=assignment.assigned_by,
                kind=NotificationKind.REWORK_DONE,
                title=f"{person_name(by)} uploaded the {what} version of "
                f"“{parent.original_name}”: ready for review",
                body=note,
                url=reverse("drafts:detail", args=[target.pk]),
                campaign=assignment.campaign,
                draft=target,
                assignment=assignment,
            )
    return target


# --- references for the next batch -------------------------------------------------------------


def draft_can_be_reference(draft: Draft) -> bool:
    """Rejected or regenerated drafts: a look worth keeping although the draft is not."""
    return draft.decision in (Decision.REJECT, Decision.REGENERATE) or draft.children.exists()


@transaction.atomic
def draft_reference_mark(
    *, draft: Draft, by: User, note: str = "", batch: Batch | None = None
) -> Draft:
    """Keep the draft as a reference. With no batch it is attached to the campaign's next
    batch, the first one created from now on that receives a draft."""
    if not draft_can_be_reference(draft):
        raise Refusal("Only rejected or regenerated drafts can be used as references.")
    if batch is not None and (batch.campaign_id != draft.campaign_id or batch.pk == draft.batch_id):
        raise Refusal("Attach the reference to another batch of this campaign.")
    now = timezone.now()
    Draft.objects.filter(pk=draft.pk).update(
        is_reference=True,
        reference_note=note.strip()[:500],
        reference_marked_by=by,
        reference_marked_at=now,
        reference_batch=batch,
    )
    draft.refresh_from_db()
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="draft.reference",
        summary=f"Use “{draft.original_name}” as a reference for "
        + (f"batch {batch.name}" if batch else "the next batch"),
        target=draft,
    )
    return draft


@transaction.atomic
def draft_reference_unmark(*, draft: Draft, by: User) -> Draft:
    Draft.objects.filter(pk=draft.pk).update(
        is_reference=False,
        reference_note="",
        reference_marked_by=None,
        reference_marked_at=None,
        reference_batch=None,
    )
    draft.refresh_from_db()
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="draft.reference_removed",
        summary=f"No longer a reference: “{draft.original_name}”",
        target=draft,
    )
    return draft


def references_attach_to_new_batch(draft: Draft) -> None:
    """Registered as a draft-added hook (runs inside the intake transaction): the first draft
    of a batch created after a reference was marked makes that batch the reference's "next
    batch". Drafts added later to older batches (a regeneration next to its parent) do not."""
    Draft.objects.filter(
        campaign_id=draft.campaign_id,
        is_reference=True,
        reference_batch__isnull=True,
        reference_marked_at__lte=draft.batch.created_at,
    ).exclude(batch_id=draft.batch_id).update(reference_batch_id=draft.batch_id)
