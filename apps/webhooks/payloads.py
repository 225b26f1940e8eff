"""What each event says: Standard Webhooks' shape, ``{"type", "timestamp", "data"}``, with ids
a script can pass back to the API."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.core.models import Job
from apps.drafts.models import Draft


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}


def draft_data(draft: Draft) -> dict[str, Any]:
    return {
        "draft_id": draft.pk,
        "campaign_id": draft.campaign_id,
        "batch_id": draft.batch_id,
        "name": draft.original_name,
        "sha256": draft.sha256,
        "decision": draft.decision,
        "proposed_decision": draft.proposed_decision,
    }


def job_data(job: Job, **ids: Any) -> dict[str, Any]:
    return {"job_id": job.pk, "status": job.status, "message": job.message, **ids}
