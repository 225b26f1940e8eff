"""The worker side of webhooks: send one delivery, signed, and decide what a failure means."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from apps.core.jobs import Claim, job_running
from apps.core.models import JobStatus
from apps.webhooks.addresses import url_refusal
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import endpoint_failure_note, endpoint_success_note

logger = logging.getLogger(__name__)


def signed_headers(*, secret: str, event_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp (seconds) and ``v1,<base64 HMAC-SHA256>`` of
    ``id.timestamp.body`` under the endpoint's secret."""
    now = timezone.now()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
        "content-type": "application/json",
        "user-agent": "Draftroom-Webhooks/1",
    }


def backoff_seconds(tries: int) -> float:
    """Wait before try ``tries + 1``: the base, doubled after each failure, at most a day."""
    return float(min(settings.WEBHOOK_RETRY_SECONDS * 2 ** max(tries - 1, 0), 24 * 3600))


def webhook_deliver_run(*, job_id: int) -> Claim:
    with job_running(WebhookDelivery, job_id, failure="Could not send the webhook: {exc}") as run:
        if not run.claimed:
            return run.result
        delivery = run.job
        endpoint = delivery.endpoint
        if endpoint.paused_at is not None:
            return run.fail("Not sent: the endpoint is paused.")
        refusal = url_refusal(endpoint.url)
        if refusal:
            return run.fail(f"Not sent: {refusal}")
        body = json.dumps(delivery.payload, separators=(",", ":"))
        headers = signed_headers(secret=endpoint.secret, event_id=delivery.event_id, body=body)
        tries = delivery.tries + 1
        started = time.perf_counter()
        status: int | None = None
        text = ""
        try:
            # No redirects: a public address must not bounce the request to an internal one.
            response = requests.post(
                endpoint.url,
                data=body.encode(),
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            status, text = response.status_code, response.text[:500]
        except requests.RequestException as exc:
            text = f"{type(exc).__name__}: {exc}"[:500]
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            tries=tries, response_status=status, response_ms=elapsed_ms, response_body=text
        )
        if status is not None and 200 <= status < 300:
            endpoint_success_note(endpoint=endpoint)
            run.finish(message=f"Delivered: {status} in {elapsed_ms} ms (try {tries})")
            return run.result
        what = f"HTTP {status}" if status is not None else text
        logger.warning("webhook %s try %s to %s failed: %s", delivery.pk, tries, endpoint.url, what)
        paused = endpoint_failure_note(endpoint=endpoint, pause_after=settings.WEBHOOK_PAUSE_AFTER)
        if paused or tries >= settings.WEBHOOK_MAX_TRIES:
            reason = "the endpoint was paused" if paused else f"gave up after {tries} tries"
            return run.fail(f"Not delivered ({what}); {reason}.")
        wait = backoff_seconds(tries)
        # Back to the queue, due after the backoff (the sweeper reads queued_at as "since when
        # it waits"); the kernel's attempts count lost workers only, so they start again.
        WebhookDelivery.objects.filter(pk=delivery.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED,
            attempts=0,
            message=f"Try {tries} failed ({what}); next in {wait:.0f} s",
            queued_at=timezone.now() + timedelta(seconds=wait),
            lease_expires_at=None,
        )
        run.result = Claim(False, retry_in=wait)
    return run.result
