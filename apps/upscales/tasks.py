from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.jobs import job_task_run
from apps.upscales.models import UpscaleJob
from apps.upscales.services import upscale_run


@shared_task(bind=True, name="apps.upscales.tasks.upscale_task", max_retries=20)
def upscale_task(self: Any, job_id: int) -> None:
    """gpu queue: one job at a time per GPU (the worker runs with concurrency 1); the model
    stays loaded in this process between jobs."""
    job_task_run(self, upscale_run, UpscaleJob, job_id)
