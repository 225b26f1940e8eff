from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.jobs import job_task_run
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run


@shared_task(bind=True, name="apps.upscales.tasks.upscale_task", max_retries=20)
def upscale_task(self: Any, job_id: int) -> None:
    """gpu queue. The worker runs one process per GPU with two job threads (``--pool threads
    --concurrency 2``): one job's network passes have the GPU while the other reads, decodes,
    encodes, stores or exports, and waits for its turn (``engine.device_turn``). The model is
    loaded once per process and stays loaded between jobs."""
    job_task_run(self, upscale_run, UpscaleJob, job_id)
