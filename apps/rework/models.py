from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.drafts.models import Draft, DraftRevision
from apps.reviews.models import Region


class AssignmentKind(models.TextChoices):
    REGENERATE = "regenerate", "Regenerate"  # a new draft, linked to this one as its parent
    EDIT = "edit", "Edit"  # a retouched file: a new revision of this draft


class AssignmentStatus(models.TextChoices):
    """Life of a rework assignment.

    open → done        the assignee uploaded the new version (a child draft or a revision)
    open → cancelled   an art director withdrew it
    """

    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Assignment(models.Model):
    """An art director's request to a creator: regenerate or edit a draft, with instructions,
    the marked regions that matter and a due date."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="assignments")
    # The draft's revision when assigned: the regions and instructions refer to that file.
    draft_revision = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=12, choices=AssignmentKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    instructions = models.TextField()
    due_date = models.DateField()
    regions = models.ManyToManyField(Region, blank=True, related_name="assignments")
    status = models.CharField(
        max_length=12,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.OPEN,
        db_index=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_draft = models.ForeignKey(
        Draft, null=True, blank=True, on_delete=models.SET_NULL, related_name="from_assignments"
    )
    result_revision = models.ForeignKey(
        DraftRevision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="from_assignments",
    )
    # The creator's note for the reviewers on a regenerated version. An edit's note is kept
    # on its revision (DraftRevision.note), its one owner; ``version_note`` reads either.
    result_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} “{self.draft}” for {self.assignee}"

    @property
    def is_open(self) -> bool:
        return self.status == AssignmentStatus.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()

    @property
    def version_note(self) -> str:
        """What the creator wrote for the reviewers with the version they uploaded."""
        if self.result_revision is not None:
            return self.result_revision.note
        return self.result_note


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Rework assigned"
    OVERDUE = "overdue", "Rework overdue"
    REWORK_DONE = "rework_done", "New version uploaded"
    ASSIGNMENT_CANCELLED = "assignment_cancelled", "Assignment cancelled"
    DECISION = "decision", "Decision"
    AWAITING_SIGN_OFF = "awaiting_sign_off", "Awaiting sign-off"
    SIGNED_OFF = "signed_off", "Signed off"
    MENTION = "mention", "Mentioned in a comment"
    COMMENT_REPLY = "comment_reply", "Reply to a comment"


class EmailState(models.TextChoices):
    """queued → sent | failed; skipped when the person has no e-mail address."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Notification(models.Model):
    """Something a person should know: shown in the app (unread until they open it) and sent
    by e-mail through Django's e-mail backend, after commit, by a task."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=8, choices=EmailState.choices, default=EmailState.QUEUED
    )
    email_error = models.CharField(max_length=500, blank=True)
    # What the notification is about, so it can be grouped by draft and resolve itself once
    # its ask is done (a sign-off given, an assignment submitted or cancelled).
    draft = models.ForeignKey(
        Draft, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assignment = models.ForeignKey(
        "Assignment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title
