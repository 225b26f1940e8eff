from __future__ import annotations

import json

import pytest

from apps.drafts.models import Draft
from tests.factories import make_draft
from tests.images import png_bytes

pytestmark = pytest.mark.django_db


def _upload(client, batch, data: bytes, *, name="a.png", metadata=None, key=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"file": SimpleUploadedFile(name, data, content_type="image/png")}
    if metadata is not None:
        body["metadata"] = json.dumps(metadata)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/batches/{batch.pk}/drafts/", body, **headers)


def test_an_upload_stores_the_draft_with_its_sidecar_metadata(api, batch):
    response = _upload(
        api("creator"),
        batch,
        png_bytes(color=(10, 20, 30)),
        metadata={"prompt": "a red tin on snow", "seed": 42, "generator": "ComfyUI"},
    )
    assert response.status_code == 201, response.content
    draft = Draft.objects.get(pk=response.json()["draft_id"])
    assert (draft.prompt, draft.seed, draft.generator) == ("a red tin on snow", 42, "ComfyUI")


def test_an_upload_sent_twice_with_one_key_is_answered_the_same_and_stored_once(api, batch):
    client = api("creator")
    first = _upload(client, batch, png_bytes(color=(1, 2, 3)), key="k-1")
    second = _upload(client, batch, png_bytes(color=(1, 2, 3)), key="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Draft.objects.filter(batch=batch).count() == 1


def test_a_copy_sent_while_the_first_still_runs_is_told_to_retry_and_never_acts(api, cast, batch):
    # The first request holds the key (as it does while its upload is being stored).
    from apps.api.services import idempotent_answer_keep, idempotent_key_hold

    client = api("creator")
    fingerprint = _fingerprint(batch)
    row, held = idempotent_key_hold(user=cast.creator, key="k-2", fingerprint=fingerprint)
    assert held
    busy = _upload(client, batch, png_bytes(color=(4, 5, 6)), key="k-2")
    assert busy.status_code == 409 and busy["Retry-After"] == "2"
    assert busy.json()["code"] == "idempotency_key_in_use"
    assert not Draft.objects.filter(batch=batch).exists()  # the copy did not act
    idempotent_answer_keep(row=row, status_code=201, body={"draft_id": 7})
    replay = _upload(client, batch, png_bytes(color=(4, 5, 6)), key="k-2")
    assert (replay.status_code, replay.json()) == (201, {"draft_id": 7})


def test_a_refused_request_frees_its_key_for_the_fixed_retry(api, batch):
    client = api("creator")
    refused = _upload(client, batch, b"<html>hi</html>", name="x.png", key="k-3")
    assert refused.status_code == 422
    fixed = _upload(client, batch, png_bytes(color=(7, 8, 9)), key="k-3")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed


def test_a_key_held_by_a_request_that_died_is_taken_over_after_the_hold(api, cast, batch):
    from datetime import timedelta

    from django.utils import timezone

    from apps.api.models import IdempotentAnswer
    from apps.api.services import IDEMPOTENCY_HOLD, idempotent_key_hold

    row, _ = idempotent_key_hold(user=cast.creator, key="k-4", fingerprint=_fingerprint(batch))
    IdempotentAnswer.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - IDEMPOTENCY_HOLD - timedelta(seconds=1)
    )
    retried = _upload(api("creator"), batch, png_bytes(color=(3, 3, 3)), key="k-4")
    assert retried.status_code == 201
    assert IdempotentAnswer.objects.get(pk=row.pk).status_code == 201


def _fingerprint(batch) -> str:
    import hashlib

    return hashlib.sha256(f"POST /api/v1/batches/{batch.pk}/drafts/".encode()).hexdigest()


def test_the_same_file_without_a_key_is_reported_as_a_duplicate(api, batch):
    client = api("creator")
    _upload(client, batch, png_bytes(color=(1, 2, 3)))
    again = _upload(client, batch, png_bytes(color=(1, 2, 3)), name="b.png")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_a_file_that_is_not_an_image_is_refused_as_a_problem(api, batch):
    response = _upload(api("creator"), batch, b"<html>hi</html>", name="x.png")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"]


def test_a_reviewer_cannot_upload(api, batch):
    response = _upload(api("reviewer"), batch, png_bytes())
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_the_draft_list_pages_with_cursors_and_filters_by_decision(api, batch):
    drafts = [
        make_draft(batch, name=f"d{i}.png", data=png_bytes(color=(i, 9, 9))) for i in range(3)
    ]
    Draft.objects.filter(pk=drafts[0].pk).update(decision="keep")
    client = api("reviewer")
    page = client.get(f"/api/v1/batches/{batch.pk}/drafts/?page_size=2").json()
    assert [d["id"] for d in page["results"]] == [drafts[0].pk, drafts[1].pk]
    rest = client.get(page["next"]).json()
    assert [d["id"] for d in rest["results"]] == [drafts[2].pk]
    kept = client.get(f"/api/v1/batches/{batch.pk}/drafts/?decision=keep").json()
    assert [d["id"] for d in kept["results"]] == [drafts[0].pk]


def test_a_decision_through_the_api_is_the_pages_decision(api, batch):
    draft = make_draft(batch)
    response = api("art_director").post(
        f"/api/v1/drafts/{draft.pk}/reviews/",
        {"decision": "reject", "note": "label is cut off"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    draft.refresh_from_db()
    assert draft.decision == "reject"
    detail = api("reviewer").get(f"/api/v1/drafts/{draft.pk}/").json()
    assert detail["reviews"][0]["note"] == "label is cut off"


def test_a_rule_of_the_domain_answers_422_with_its_message(api, batch):
    draft = make_draft(batch)
    response = api("reviewer").post(
        f"/api/v1/drafts/{draft.pk}/reviews/",
        {"decision": "reject"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "note is required" in response.json()["detail"]


def test_sign_off_makes_a_waiting_decision_count(api, cast, batch):
    from apps.reviews.services import review_settings_update

    review_settings_update(campaign=batch.campaign, by=cast.art_director, sign_off="all")
    draft = make_draft(batch)
    api("reviewer").post(
        f"/api/v1/drafts/{draft.pk}/reviews/", {"decision": "keep"}, content_type="application/json"
    )
    response = api("art_director").post(f"/api/v1/drafts/{draft.pk}/sign-off/")
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "keep"


def test_the_record_is_the_record_pages_json(api, batch):
    draft = make_draft(batch)
    record = api("producer").get(f"/api/v1/drafts/{draft.pk}/record/").json()
    assert record["schema_version"] == 1


def test_a_pack_is_queued_and_its_job_status_read(api, batch, channel_presets):
    draft = make_draft(batch)
    Draft.objects.filter(pk=draft.pk).update(decision="keep")
    client = api("producer")
    url = f"/api/v1/campaigns/{batch.campaign_id}/packs/"
    # The test draft is too small for the hero banners: refused, naming what is missing ...
    refused = client.post(url, {"kind": "zip"}, content_type="application/json")
    assert refused.status_code == 422 and "cannot be made" in refused.json()["detail"]
    # ... until the caller asks for what can be made.
    pack = client.post(
        url, {"kind": "zip", "without_missing": True}, content_type="application/json"
    )
    assert pack.status_code == 202, pack.content
    status = client.get(f"/api/v1/jobs/pack/{pack.json()['id']}/").json()
    assert status["status"] == "queued"
    assert client.get(f"/api/v1/packs/{pack.json()['id']}/download/").status_code == 404


def test_a_decision_on_an_out_of_date_version_answers_409_and_saves_nothing(api, batch):
    draft = make_draft(batch)
    seen = api("reviewer").get(f"/api/v1/drafts/{draft.pk}/").json()["decision_version"]
    api("art_director").post(
        f"/api/v1/drafts/{draft.pk}/reviews/", {"decision": "keep"}, content_type="application/json"
    )
    response = api("reviewer").post(
        f"/api/v1/drafts/{draft.pk}/reviews/",
        {"decision": "reject", "note": "no", "expected_version": seen},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    draft.refresh_from_db()
    assert draft.decision == "keep"


def test_the_draft_list_takes_the_grids_search(api, batch):
    from apps.drafts.models import Draft as D

    drafts = [
        make_draft(batch, name=f"s{i}.png", data=png_bytes(color=(i, 1, 1))) for i in range(2)
    ]
    D.objects.filter(pk=drafts[1].pk).update(seed=4242)
    found = api("reviewer").get(f"/api/v1/batches/{batch.pk}/drafts/?q=seed:4242").json()
    assert [d["id"] for d in found["results"]] == [drafts[1].pk]
