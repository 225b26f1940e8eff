from __future__ import annotations

from celery import shared_task

from apps.api.services import idempotent_answers_expire


@shared_task(name="apps.api.tasks.idempotent_answers_expire_task", ignore_result=True)
def idempotent_answers_expire_task() -> int:
    return idempotent_answers_expire()
