from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.drafts.services import draft_preview_run


@shared_task(bind=True, name="apps.drafts.tasks.draft_preview_task", max_retries=20)
def draft_preview_task(self: Any, job_id: int) -> None:
    claim = draft_preview_run(job_id=job_id)
    if claim.retry_in is not None:
        raise self.retry(countdown=claim.retry_in)
