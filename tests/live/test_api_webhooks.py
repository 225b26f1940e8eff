"""Webhooks end to end: API calls and a real worker produce events, a receiver on loopback
verifies every signature, and a receiver that fails twice gets its event on the third try."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from standardwebhooks.webhooks import Webhook

from apps.api.services import token_create
from apps.core.models import JobStatus
from apps.drafts.models import Draft
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import endpoint_create
from tests.live.conftest import WorkerProcess, _flush_broker, wait_for
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.live


@pytest.fixture
def hook_worker(monkeypatch, settings, live_var, transactional_db):
    """A worker allowed to call loopback, retrying after 1 s, 2 s…"""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SECONDS", "1")
    _flush_broker()
    proc = WorkerProcess(live_var, connection.settings_dict["NAME"])
    yield proc
    proc.stop()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kw) -> Receiver:
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


def _events(receiver: Receiver, secret: str) -> list[str]:
    hook = Webhook(secret)
    return [hook.verify(r.body, r.headers)["type"] for r in receiver.received]


def test_signed_events_reach_a_loopback_receiver_and_a_flaky_one_on_the_third_try(
    live_server, cast, batch, hook_worker, receivers, channel_presets
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.images import png_bytes

    good, flaky = receivers(), receivers(fail_first=2)
    events = ["draft.created", "draft.checked", "review.decided", "pack.ready"]
    endpoint = endpoint_create(
        campaign=cast.campaign, by=cast.art_director, url=good.start(), events=events
    )
    flaky_endpoint = endpoint_create(
        campaign=cast.campaign, by=cast.art_director, url=flaky.start(), events=["draft.created"]
    )
    _token, secret = token_create(user=cast.art_director, name="hooks", scope="write")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    upload = api.post(
        f"/api/v1/batches/{batch.pk}/drafts/",
        {"file": SimpleUploadedFile("tin.png", png_bytes(size=(800, 600)))},
    )
    assert upload.status_code == 201, upload.content
    draft = Draft.objects.get(pk=upload.json()["draft_id"])
    wait_for(
        lambda: "draft.checked" in _events(good, endpoint.secret),
        what="draft.checked",
        worker=hook_worker,
    )
    decided = api.post(
        f"/api/v1/drafts/{draft.pk}/reviews/", {"decision": "keep"}, content_type="application/json"
    )
    assert decided.status_code == 201, decided.content
    pack = api.post(
        f"/api/v1/campaigns/{cast.campaign.pk}/packs/",
        # The test draft is too small for the hero banners: build with what can be made.
        {"kind": "zip", "without_missing": True},
        content_type="application/json",
    )
    assert pack.status_code == 202, pack.content
    wait_for(
        lambda: "pack.ready" in _events(good, endpoint.secret),
        timeout=120,
        what="pack.ready",
        worker=hook_worker,
    )
    assert sorted(set(_events(good, endpoint.secret))) == sorted(events)

    wait_for(lambda: flaky.received, what="the flaky receiver's third try", worker=hook_worker)
    assert flaky.calls == 3
    assert _events(flaky, flaky_endpoint.secret) == ["draft.created"]
    delivery = WebhookDelivery.objects.get(endpoint=flaky_endpoint)
    assert (delivery.status, delivery.tries, delivery.response_status) == (JobStatus.DONE, 3, 204)
    body = json.loads(flaky.received[0].body)
    assert body["data"]["draft_id"] == draft.pk
