from __future__ import annotations

from celery import shared_task

from apps.rework.runs import notification_email_send


@shared_task(name="apps.rework.tasks.notification_email_task")
def notification_email_task(notification_id: int) -> None:
    # The run claims the row before sending, so a redelivered message sends nothing twice.
    notification_email_send(notification_id=notification_id)
