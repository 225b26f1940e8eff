"""Builders for every app's tests that need the job kernel."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Model

from apps.core.models import JobStatus


def run_queued(model: type[Model], run: Callable[..., object]) -> None:
    """Run every queued job of ``model`` as a worker would, ``run(job_id=…)`` called as a
    function: these tests have no broker and no worker process."""
    queued = model._default_manager.filter(status=JobStatus.QUEUED)
    for job_id in queued.values_list("pk", flat=True):
        run(job_id=job_id)
