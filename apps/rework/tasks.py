from __future__ import annotations

from celery import shared_task

from apps.rework.runs import notification_email_send
from apps.rework.services import assignments_remind_overdue


@shared_task(name="apps.rework.tasks.notification_email_task")
def notification_email_task(notification_id: int) -> None:
    # The run claims the row before sending, so a redelivered message sends nothing twice.
    notification_email_send(notification_id=notification_id)


@shared_task(name="apps.rework.tasks.assignments_remind_overdue_task", ignore_result=True)
def assignments_remind_overdue_task() -> int:
    # Daily from beat; the service sends at most one reminder per assignment per day.
    return assignments_remind_overdue()
