"""The apps' hooks turned into webhook events (registered in ``WebhooksConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from apps.reviews.hooks import DecisionEvent, DecisionEventKind
from apps.webhooks.models import EventType
from apps.webhooks.payloads import draft_data, job_data
from apps.webhooks.services import event_emit


def on_draft_added(draft: Any) -> None:
    event_emit(
        campaign_id=draft.campaign_id, event_type=EventType.DRAFT_CREATED, data=draft_data(draft)
    )


def on_decision(event: DecisionEvent) -> None:
    kind = (
        EventType.DRAFT_SIGNED_OFF
        if event.kind == DecisionEventKind.SIGNED_OFF
        else EventType.REVIEW_DECIDED
    )
    data = {
        **draft_data(event.draft),
        "review_id": event.review.pk,
        "review_decision": event.review.decision,
        "counts": event.kind != DecisionEventKind.AWAITING_SIGN_OFF,
        "by": event.actor.get_username(),
    }
    event_emit(campaign_id=event.draft.campaign_id, event_type=kind, data=data)


def on_checks_finished(job: Any) -> None:
    draft = job.draft
    summary = getattr(draft, "check_summary", None)
    data = {**draft_data(draft), "worst": summary.worst if summary else ""}
    event_emit(campaign_id=draft.campaign_id, event_type=EventType.DRAFT_CHECKED, data=data)


def on_upscale_finished(job: Any) -> None:
    _job_event(job, EventType.UPSCALE_FINISHED)


def on_upscale_failed(job: Any) -> None:
    _job_event(job, EventType.UPSCALE_FAILED)


def on_export_finished(job: Any) -> None:
    _job_event(job, EventType.EXPORT_FINISHED)


def _job_event(job: Any, event_type: str) -> None:
    draft = job.draft
    event_emit(
        campaign_id=draft.campaign_id,
        event_type=event_type,
        data=job_data(job, draft_id=draft.pk, campaign_id=draft.campaign_id),
    )


def on_pack_ready(pack: Any) -> None:
    data = job_data(pack, pack_id=pack.pk, campaign_id=pack.campaign_id, kind=pack.kind)
    event_emit(campaign_id=pack.campaign_id, event_type=EventType.PACK_READY, data=data)


def on_assignment(change: str, assignment: Any) -> None:
    event_type = (
        EventType.ASSIGNMENT_CREATED if change == "created" else EventType.ASSIGNMENT_SUBMITTED
    )
    data = {
        "assignment_id": assignment.pk,
        "campaign_id": assignment.campaign_id,
        "draft_id": assignment.draft_id,
        "kind": assignment.kind,
        "status": assignment.status,
        "assignee": assignment.assignee.get_username(),
        "result_draft_id": assignment.result_draft_id,
    }
    event_emit(campaign_id=assignment.campaign_id, event_type=event_type, data=data)
