from celery import shared_task

from apps.core.jobs import sweep_jobs


@shared_task(name="apps.core.tasks.sweep_jobs_task", ignore_result=True)
def sweep_jobs_task() -> dict[str, int]:
    return sweep_jobs()
