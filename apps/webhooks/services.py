"""Writes for webhooks: endpoints, events turned into deliveries, redelivery, pause/resume."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.core.jobs import job_create
from apps.webhooks.addresses import require_public_url
from apps.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from apps.webhooks.payloads import envelope


def endpoint_create(
    *, campaign: Campaign, by: User, url: str, events: Sequence[str], description: str = ""
) -> WebhookEndpoint:
    url = url.strip()
    require_public_url(url)
    chosen = [e for e in EventType.values if e in set(events)]
    if not chosen:
        raise Refusal("Choose at least one event.")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            campaign=campaign,
            url=url[:500],
            description=description.strip()[:200],
            secret=secret,
            events=chosen,
            created_by=by,
        )
        audit_record(
            campaign=campaign,
            actor=by,
            verb="webhook.created",
            summary=f"Webhook to {endpoint.url} for {', '.join(chosen)}",
        )
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint, by: User) -> None:
    with transaction.atomic():
        audit_record(
            campaign=endpoint.campaign,
            actor=by,
            verb="webhook.deleted",
            summary=f"Removed the webhook to {endpoint.url}",
        )
        endpoint.delete()


def endpoint_resume(*, endpoint: WebhookEndpoint, by: User) -> bool:
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=False).update(
        paused_at=None, pause_reason="", failures_in_a_row=0
    )
    if updated:
        audit_record(
            campaign=endpoint.campaign,
            actor=by,
            verb="webhook.resumed",
            summary=f"Resumed the webhook to {endpoint.url}",
        )
    return bool(updated)


def event_emit(*, campaign_id: int, event_type: str, data: dict[str, Any]) -> int:
    """One delivery per active endpoint that asked for the event; each is sent by the worker
    after the surrounding transaction commits (a rolled-back change sends nothing)."""
    endpoints = list(
        WebhookEndpoint.objects.filter(campaign_id=campaign_id, paused_at__isnull=True)
    )
    wanted = [e for e in endpoints if event_type in e.events]
    if not wanted:
        return 0
    payload = envelope(event_type, data)
    for endpoint in wanted:
        job_create(
            WebhookDelivery,
            endpoint=endpoint,
            event_type=event_type,
            event_id=f"msg_{uuid.uuid4().hex}",
            payload=payload,
        )
    return len(wanted)


def delivery_redeliver(*, delivery: WebhookDelivery, by: User) -> WebhookDelivery:
    """Send the same event again, by hand: a new row, the same ``webhook-id``."""
    if delivery.is_active:
        raise Refusal("This delivery is still being sent.")
    endpoint = delivery.endpoint
    if endpoint.paused_at is not None:
        raise Refusal("The endpoint is paused: resume it first.")
    again = job_create(
        WebhookDelivery,
        endpoint=endpoint,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        payload=delivery.payload,
    )
    audit_record(
        campaign=endpoint.campaign,
        actor=by,
        verb="webhook.redelivered",
        summary=f"Sent {delivery.event_type} to {endpoint.url} again",
    )
    return again


def endpoint_failure_note(*, endpoint: WebhookEndpoint, pause_after: int) -> bool:
    """Count a failed try; pause the endpoint once ``pause_after`` tries in a row failed.
    Returns True when this try paused it."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failures_in_a_row=F("failures_in_a_row") + 1
    )
    endpoint.refresh_from_db(fields=["failures_in_a_row", "paused_at"])
    if endpoint.paused_at is None and endpoint.failures_in_a_row >= pause_after:
        reason = (
            f"Paused after {endpoint.failures_in_a_row} failed deliveries in a row; "
            "nothing is sent until it is resumed."
        )
        paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
            paused_at=timezone.now(), pause_reason=reason
        )
        if paused:
            audit_record(
                campaign=endpoint.campaign,
                actor=None,
                verb="webhook.paused",
                summary=f"Webhook to {endpoint.url} paused: {reason}",
            )
            return True
    return False


def endpoint_success_note(*, endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(failures_in_a_row=0).update(
        failures_in_a_row=0
    )
