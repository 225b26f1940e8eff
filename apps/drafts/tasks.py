from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.jobs import job_task_run
from apps.drafts.models import PreviewJob
from apps.drafts.runs import draft_preview_run


@shared_task(bind=True, name="apps.drafts.tasks.draft_preview_task", max_retries=20)
def draft_preview_task(self: Any, job_id: int) -> None:
    job_task_run(self, draft_preview_run, PreviewJob, job_id)
