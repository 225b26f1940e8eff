from celery import shared_task

from apps.core.jobs import sweep_jobs
from apps.core.storage import storage_parts_sweep


@shared_task(name="apps.core.tasks.sweep_jobs_task", ignore_result=True)
def sweep_jobs_task() -> dict[str, int]:
    """Every minute from beat: lost jobs back on the queue, and part files of killed writers
    (never published) deleted."""
    counts = sweep_jobs()
    counts["stray_parts_removed"] = storage_parts_sweep()
    return counts
