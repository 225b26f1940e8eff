from datetime import timedelta

from django.core import mail
from django.utils import timezone

from apps.rework.models import Notification
from apps.rework.services import assignment_create
from apps.rework.tasks import notification_email_task
from tests.factories import make_draft


def test_the_email_task_sends_once_and_returns_quietly_for_a_missing_row(cast, batch):
    cast.creator.email = "cora@example.com"
    cast.creator.save()
    assignment_create(
        draft=make_draft(batch),
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Retouch",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    note = Notification.objects.get()
    notification_email_task.run(note.pk)
    notification_email_task.run(note.pk)  # redelivered after a lost acknowledgement
    notification_email_task.run(note.pk + 1000)  # the row is gone
    assert len(mail.outbox) == 1
