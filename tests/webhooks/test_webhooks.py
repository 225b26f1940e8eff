from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from apps.core.errors import Refusal
from apps.core.models import JobStatus
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.runs import backoff_seconds, webhook_deliver_run
from apps.webhooks.services import delivery_redeliver, endpoint_create, event_emit
from tests.factories import make_draft
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOK_RETRY_SECONDS = 1
    r = Receiver()
    yield r
    r.stop()


def _endpoint(cast, url, events=("draft.created",)):
    return endpoint_create(campaign=cast.campaign, by=cast.art_director, url=url, events=events)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://example.com/hook",
    ],
)
def test_internal_addresses_are_refused_unless_a_setting_allows_them(cast, url):
    with pytest.raises(Refusal):
        _endpoint(cast, url)


def test_a_new_draft_queues_one_delivery_per_subscribed_endpoint_after_commit(
    cast, batch, receiver, django_capture_on_commit_callbacks
):
    url = receiver.start()
    _endpoint(cast, url)
    _endpoint(cast, url, events=("pack.ready",))
    with django_capture_on_commit_callbacks() as callbacks:
        draft = make_draft(batch)
    deliveries = WebhookDelivery.objects.filter(event_type="draft.created")
    assert deliveries.count() == 1
    assert deliveries.get().payload["data"]["draft_id"] == draft.pk
    assert callbacks, "the delivery is published after commit"


def test_a_delivery_is_signed_the_standard_webhooks_way(cast, batch, receiver):
    endpoint = _endpoint(cast, receiver.start())
    make_draft(batch)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver_run(job_id=delivery.pk)
    got = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "draft.created"
    assert got.headers["webhook-id"] == delivery.event_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (JobStatus.DONE, 204)
    assert delivery.response_ms is not None


def test_a_failing_receiver_gets_the_event_on_the_third_try(cast, batch, receiver):
    receiver.fail_first = 2
    _endpoint(cast, receiver.start())
    make_draft(batch)
    delivery = WebhookDelivery.objects.get()
    first = webhook_deliver_run(job_id=delivery.pk)
    assert first.retry_in == backoff_seconds(1)
    second = webhook_deliver_run(job_id=delivery.pk)
    assert second.retry_in == backoff_seconds(2) == 2 * backoff_seconds(1)
    webhook_deliver_run(job_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tries) == (JobStatus.DONE, 3)
    assert len(receiver.received) == 1


def test_an_endpoint_is_paused_with_a_notice_after_repeated_failures(
    cast, batch, receiver, settings
):
    settings.WEBHOOK_PAUSE_AFTER = 2
    receiver.fail_first = 100
    endpoint = _endpoint(cast, receiver.start())
    make_draft(batch)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver_run(job_id=delivery.pk)
    webhook_deliver_run(job_id=delivery.pk)
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.paused_at is not None and "Paused after 2" in endpoint.pause_reason
    assert delivery.status == JobStatus.FAILED
    assert event_emit(campaign_id=cast.campaign.pk, event_type="draft.created", data={}) == 0
    page = cast.client("art_director").get(f"/campaigns/{cast.campaign.pk}/webhooks/")
    assert endpoint.pause_reason in page.content.decode()


def test_a_redelivery_sends_the_same_event_id_again(cast, batch, receiver):
    _endpoint(cast, receiver.start())
    make_draft(batch)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver_run(job_id=delivery.pk)
    delivery.refresh_from_db()
    again = delivery_redeliver(delivery=delivery, by=cast.art_director)
    webhook_deliver_run(job_id=again.pk)
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.event_id] * 2


def test_a_finished_pack_sends_pack_ready(cast, batch, receiver, channel_presets):
    from apps.drafts.models import Draft
    from apps.exports.runs import pack_run
    from apps.exports.services import pack_queue

    _endpoint(cast, receiver.start(), events=("pack.ready",))
    draft = make_draft(batch)
    Draft.objects.filter(pk=draft.pk).update(decision="keep")
    pack = pack_queue(campaign=cast.campaign, by=cast.producer, without_missing=True)
    pack_run(job_id=pack.pk)
    delivery = WebhookDelivery.objects.get(event_type="pack.ready")
    assert delivery.payload["data"]["pack_id"] == pack.pk


def test_a_decision_sends_review_decided(cast, batch, receiver):
    from apps.reviews.services import review_submit

    _endpoint(cast, receiver.start(), events=("review.decided",))
    draft = make_draft(batch)
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    payload = WebhookDelivery.objects.get().payload
    assert json.loads(json.dumps(payload))["data"]["review_decision"] == "keep"


def test_only_art_directors_manage_webhooks(cast):
    assert (
        cast.client("reviewer").get(f"/campaigns/{cast.campaign.pk}/webhooks/").status_code == 403
    )
    assert (
        cast.client("outsider").get(f"/campaigns/{cast.campaign.pk}/webhooks/").status_code == 404
    )


def test_rework_sends_assignment_created_and_submitted(cast, batch, receiver):
    from datetime import timedelta

    from django.utils import timezone

    from apps.rework.services import assignment_create, assignment_submit
    from tests.images import png_bytes

    _endpoint(cast, receiver.start(), events=("assignment.created", "assignment.submitted"))
    draft = make_draft(batch)
    assignment = assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Clean the label edge",
        due_date=timezone.localdate() + timedelta(days=2),
    )
    assignment_submit(
        assignment=assignment, by=cast.creator, name="e.png", upload=png_bytes(color=(5, 5, 5))
    )
    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["assignment.created", "assignment.submitted"]


def test_the_campaign_page_links_webhooks_for_those_who_manage_them_only(cast):
    url = f"/campaigns/{cast.campaign.pk}/"
    assert 'id="webhooks-link"' in cast.client("art_director").get(url).content.decode()
    assert 'id="webhooks-link"' not in cast.client("reviewer").get(url).content.decode()
