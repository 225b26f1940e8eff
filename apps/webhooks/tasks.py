from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.jobs import job_task_run
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.runs import webhook_deliver_run


@shared_task(bind=True, name="apps.webhooks.tasks.webhook_deliver_task", max_retries=None)
def webhook_deliver_task(self: Any, job_id: int) -> None:
    # Retries are counted on the row (WEBHOOK_MAX_TRIES), not by Celery.
    job_task_run(self, webhook_deliver_run, WebhookDelivery, job_id)
