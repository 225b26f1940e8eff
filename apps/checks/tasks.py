from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.core.jobs import job_task_run


@shared_task(bind=True, name="apps.checks.tasks.draft_checks_task", max_retries=20)
def draft_checks_task(self: Any, job_id: int) -> None:
    job_task_run(self, draft_checks_run, CheckJob, job_id)
