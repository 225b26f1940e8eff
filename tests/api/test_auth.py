from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.api.models import ApiToken
from apps.api.services import token_create, token_revoke
from apps.core.errors import Refusal
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_hash(cast):
    token, secret = token_create(user=cast.reviewer, name="laptop")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("drt_") and secret not in (stored.digest, stored.prefix)
    assert stored.prefix == secret[:12]


def test_anonymous_callers_get_401_problem_json():
    response = Client().get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]


def test_a_token_lists_only_its_owners_campaigns(cast):
    response = token_client(cast.reviewer).get("/api/v1/campaigns/")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Fjell summer"]
    assert response.json()["results"][0]["role"] == "reviewer"


def test_last_use_is_shown_after_a_call(cast):
    token, secret = token_create(user=cast.reviewer, name="laptop")
    Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/campaigns/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_gets_401(cast):
    token, secret = token_create(user=cast.reviewer, name="laptop")
    token_revoke(token=token, by=cast.reviewer)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_token_gets_401(cast):
    token, secret = token_create(
        user=cast.reviewer, name="laptop", expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/campaigns/")
    assert response.status_code == 401


def test_nobody_revokes_someone_elses_token(cast):
    token, _ = token_create(user=cast.reviewer, name="laptop")
    with pytest.raises(Refusal):
        token_revoke(token=token, by=cast.creator)


def test_a_token_cannot_be_limited_to_a_campaign_its_owner_is_not_in(cast):
    with pytest.raises(Refusal):
        token_create(user=cast.reviewer, name="x", campaigns=[cast.other_campaign])


def test_a_read_token_makes_no_writes(cast, batch):
    client = token_client(cast.reviewer, scope="read")
    response = client.post(f"/api/v1/campaigns/{cast.campaign.pk}/batches/", {"name": "x"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_a_token_limited_to_another_campaign_sees_this_one_as_an_outsider(cast, batch):
    from tests.factories import CampaignFactory, MembershipFactory

    second = CampaignFactory(name="Winter")
    MembershipFactory(campaign=second, user=cast.reviewer, role="reviewer")
    client = token_client(cast.reviewer, campaigns=[second])
    assert client.get(f"/api/v1/campaigns/{cast.campaign.pk}/").status_code == 404
    assert client.get(f"/api/v1/batches/{batch.pk}/drafts/").status_code == 404
    names = [c["name"] for c in client.get("/api/v1/campaigns/").json()["results"]]
    assert names == ["Winter"]


def test_too_many_calls_answer_429_with_retry_after(cast, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "2/min"}
    from apps.api.throttling import PerTokenRateThrottle

    PerTokenRateThrottle.THROTTLE_RATES = rates
    try:
        client = token_client(cast.reviewer)
        codes = [client.get("/api/v1/campaigns/").status_code for _ in range(3)]
        response = client.get("/api/v1/campaigns/")
    finally:
        PerTokenRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        cache.clear()
    assert codes == [200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"


def test_the_token_page_shows_a_new_secret_once(cast):
    client = cast.client("creator")
    response = client.post("/settings/tokens/", {"name": "ComfyUI box", "scope": "write"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("drt_") and secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    again = client.get("/settings/tokens/").content.decode()
    assert secret not in again and "ComfyUI box" in again


def test_the_token_page_revokes_only_ones_own_tokens(cast):
    token, _ = token_create(user=cast.reviewer, name="laptop")
    other = cast.client("creator").post(
        "/settings/tokens/", {"action": "revoke", "token": token.pk}
    )
    assert other.status_code == 404
    own = cast.client("reviewer").post("/settings/tokens/", {"action": "revoke", "token": token.pk})
    assert own.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_kept_idempotent_answers_expire_after_a_week(cast):
    from apps.api.models import IdempotentAnswer
    from apps.api.services import idempotent_answers_expire

    def kept(key: str) -> IdempotentAnswer:
        return IdempotentAnswer.objects.create(
            user=cast.creator, key=key, request_fingerprint="f", status_code=201, body={}
        )

    old = kept("old")
    kept("new")
    IdempotentAnswer.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert idempotent_answers_expire() == 1
    assert list(IdempotentAnswer.objects.values_list("key", flat=True)) == ["new"]
