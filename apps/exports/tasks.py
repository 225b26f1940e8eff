from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.jobs import job_task_run
from apps.exports.models import ExportJob, Pack
from apps.exports.runs import export_run, pack_run
from apps.exports.services import packs_expire


@shared_task(bind=True, name="apps.exports.tasks.export_task", max_retries=20)
def export_task(self: Any, job_id: int) -> None:
    job_task_run(self, export_run, ExportJob, job_id)


@shared_task(bind=True, name="apps.exports.tasks.pack_task", max_retries=20)
def pack_task(self: Any, job_id: int) -> None:
    job_task_run(self, pack_run, Pack, job_id)


@shared_task(name="apps.exports.tasks.packs_expire_task", ignore_result=True)
def packs_expire_task() -> int:
    return packs_expire()
