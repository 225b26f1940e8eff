from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.checks.services import draft_checks_run


@shared_task(bind=True, name="apps.checks.tasks.draft_checks_task", max_retries=20)
def draft_checks_task(self: Any, job_id: int) -> None:
    claim = draft_checks_run(job_id=job_id)
    if claim.retry_in is not None:
        raise self.retry(countdown=claim.retry_in)
