from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.campaigns.models import Campaign
from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.checks.services import placement_results_refresh
from apps.core.jobs import job_task_run


@shared_task(bind=True, name="apps.checks.tasks.draft_checks_task", max_retries=20)
def draft_checks_task(self: Any, job_id: int) -> None:
    job_task_run(self, draft_checks_run, CheckJob, job_id)


@shared_task(name="apps.checks.tasks.placements_refresh_task")
def placements_refresh_task(campaign_ids: list[int] | None) -> None:
    """Judge the placements of the named campaigns again (``None``: every live campaign)."""
    campaigns = Campaign.objects.filter(archived_at__isnull=True)
    if campaign_ids is not None:
        campaigns = campaigns.filter(pk__in=campaign_ids)
    for campaign in campaigns.order_by("pk"):
        placement_results_refresh(campaign=campaign)
