"""The production storage path, live: every file through django-storages' S3 backend against an
S3 server over HTTP (moto's server mode; MinIO in docker-compose.yml), a real Celery worker,
PostgreSQL and Redis. Large downloads leave as presigned URLs that the test then fetches from
the S3 server itself, as a browser would."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.checks.models import CheckJob
from apps.core.models import JobStatus
from apps.core.storage_keys import pack_key
from apps.drafts.models import Draft, PreviewJob
from apps.exports.models import ChannelVersion, ExportJob, Pack
from apps.upscales.models import UpscaleJob
from tests.images import encode_png, png_bytes
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live

MULTIPART_THRESHOLD = 8 * 1024 * 1024  # boto3's default, which django-storages keeps


def _finished(model, **lookup):  # type: ignore[no-untyped-def]
    def check():  # type: ignore[no-untyped-def]
        row = model.objects.filter(**lookup).order_by("-pk").first()
        return row if row and row.status in (JobStatus.DONE, JobStatus.FAILED) else None

    return check


def _fetch_presigned(response, *, content_type: str, attachment: str | None = None) -> bytes:  # type: ignore[no-untyped-def]
    """Follow a presigned redirect to the S3 server, as the browser would, checking the URL as
    issued: SigV4, within the hour, our content type and disposition."""
    assert response.status_code == 302, response
    url = response["Location"]
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert 0 < int(query["X-Amz-Expires"]) <= 3600
    assert query["response-content-type"] == content_type
    disposition = f'attachment; filename="{attachment}"' if attachment else "inline"
    assert query["response-content-disposition"] == disposition
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (our loopback server)
        assert answer.headers["Content-Type"] == content_type
        assert answer.headers["Content-Disposition"] == disposition
        return answer.read()


def _noise_png(size: tuple[int, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return encode_png(Image.fromarray(pixels, "RGB"))


def test_the_whole_pipeline_runs_on_s3_and_large_files_leave_as_presigned_urls(
    s3, cast, batch, channel_presets, worker
):
    client = cast.client("creator")
    original = _noise_png((800, 600), seed=17)
    response = client.post(
        reverse("drafts:upload-file", args=[batch.pk]),
        {"file": SimpleUploadedFile("noise.png", original)},
        HTTP_ACCEPT="application/json",
    )
    assert response.json()["status"] == "added", response.content
    draft = Draft.objects.get()
    bucket = s3.client()
    assert bucket.get_object(Bucket=s3.bucket, Key=draft.file_key)["Body"].read() == original

    # Previews and checks, read from and written to S3 by the worker.
    for model in (PreviewJob, CheckJob):
        job = wait_for(_finished(model, draft=draft), what=model.__name__, worker=worker)
        assert (job.status, job.attempts) == (JobStatus.DONE, 1), job.error
    thumb = client.get(reverse("drafts:image", args=[draft.pk, "thumb"]))
    assert thumb.status_code == 200  # small renditions are still served by the view
    # The original at 100 % goes to the browser from storage.
    full = client.get(reverse("drafts:image", args=[draft.pk, "original"]))
    assert _fetch_presigned(full, content_type="image/png") == original

    director = cast.client("art_director")
    director.post(reverse("reviews:create", args=[draft.pk]), {"decision": "keep"})
    draft.refresh_from_db()
    assert draft.decision == "keep"

    # The upscale master: 3200 × 2400 of noise, large enough for a multipart upload. No weights
    # are installed for this worker, so the labelled classical upscaler makes it (the neural
    # path's storage calls are the same; tests/live/test_upscale_pipeline.py runs the network).
    response = director.post(
        reverse("upscales:create", args=[draft.pk]),
        # The labelled classical upscaler: the point is a master large enough for a multipart
        # upload, and no earlier test's weights can make it refuse.
        {"model": "classical", "target": "4"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    upscale = wait_for(
        _finished(UpscaleJob, draft=draft), timeout=300, what="the upscale", worker=worker
    )
    assert (upscale.status, upscale.attempts) == (JobStatus.DONE, 1), upscale.error
    head = bucket.head_object(Bucket=s3.bucket, Key=upscale.output_key)
    assert head["ContentLength"] > MULTIPART_THRESHOLD
    assert "-" in head["ETag"], "a multipart upload's ETag names its part count"
    name = f"draft-{draft.pk}-{upscale.used_model or upscale.model_name}-x4.png"
    master = _fetch_presigned(
        director.get(reverse("upscales:download", args=[upscale.pk])),
        content_type="image/png",
        attachment=name,
    )
    assert len(master) == head["ContentLength"]
    with Image.open(io.BytesIO(master)) as im:
        assert im.size == (3200, 2400)

    # Channel versions from the stored master, then the draft's pack.
    producer = cast.client("producer")
    producer.post(reverse("exports:export-draft", args=[draft.pk]))
    export = wait_for(_finished(ExportJob, draft=draft), timeout=180, what="export", worker=worker)
    assert (export.status, export.attempts) == (JobStatus.DONE, 1), export.error
    versions = list(ChannelVersion.objects.filter(draft=draft))
    assert versions
    for version in versions:
        bucket.head_object(Bucket=s3.bucket, Key=version.file_key)
    producer.post(reverse("exports:pack-create-draft", args=[draft.pk]), {"without_missing": "1"})
    pack = wait_for(_finished(Pack, draft=draft), timeout=180, what="the pack", worker=worker)
    assert (pack.status, pack.attempts) == (JobStatus.DONE, 1), pack.error
    body = _fetch_presigned(
        producer.get(reverse("exports:pack-download", args=[pack.pk])),
        content_type="application/zip",
        attachment=pack.filename,
    )
    assert len(body) == pack.byte_size
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        roles = {f["role"] for f in manifest["files"]}
        master_member = next(f for f in manifest["files"] if f["role"] == "master")
        assert len(archive.read(master_member["name"])) == len(master)
    assert roles == {"source", "master", "export"}

    # An outsider gets a 404 and never a URL.
    outsider = cast.client("outsider")
    for url in (
        reverse("exports:pack-download", args=[pack.pk]),
        reverse("upscales:download", args=[upscale.pk]),
        reverse("drafts:image", args=[draft.pk, "original"]),
        reverse("drafts:download", args=[draft.pk]),
    ):
        response = outsider.get(url)
        assert response.status_code == 404
        assert "X-Amz" not in response.get("Location", "")


def test_an_upload_while_s3_is_down_answers_503_for_that_file_and_keeps_the_batch(
    s3, cast, batch, worker
):
    client = cast.client("creator")
    url = reverse("drafts:upload-file", args=[batch.pk])

    def upload(name: str, color: tuple[int, int, int]):  # type: ignore[no-untyped-def]
        data = png_bytes(size=(300, 200), color=color)
        return client.post(
            url, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT="application/json"
        )

    assert upload("first.png", (10, 20, 30)).json()["status"] == "added"
    s3.stop()
    try:
        during = upload("during.png", (40, 50, 60))
    finally:
        s3.start()
    assert during.status_code == 503
    assert "Storage is unavailable" in json.dumps(during.json())
    assert upload("after.png", (70, 80, 90)).json()["status"] == "added"
    assert sorted(Draft.objects.values_list("original_name", flat=True)) == [
        "after.png",
        "first.png",
    ]
    wait_for(
        lambda: PreviewJob.objects.filter(status=JobStatus.DONE).count() == 2,
        what="both previews",
        worker=worker,
    )


def test_a_pack_whose_worker_loses_s3_goes_back_to_the_queue_and_finishes_when_it_returns(
    s3, cast, batch, channel_presets, worker, settings
):
    from tests.exports.builders import kept_draft

    draft = kept_draft(batch, cast.art_director, size=(1600, 1200))
    producer = cast.client("producer")
    producer.post(reverse("exports:export-draft", args=[draft.pk]))
    export = wait_for(_finished(ExportJob, draft=draft), timeout=180, what="export", worker=worker)
    assert export.status == JobStatus.DONE, export.error

    s3.stop()
    try:
        producer.post(
            reverse("exports:pack-create-draft", args=[draft.pk]), {"without_missing": "1"}
        )
        pack = Pack.objects.get(draft=draft)

        def handed_back():  # type: ignore[no-untyped-def]
            pack.refresh_from_db()
            return pack.status == JobStatus.QUEUED and pack.attempts == 1 and pack.message

        wait_for(handed_back, timeout=120, what="the pack to go back to the queue", worker=worker)
        assert pack.message.startswith("Storage unavailable, retrying")
        assert pack.error == ""
    finally:
        s3.start()
    key = pack_key(campaign_id=pack.campaign_id, pack_id=pack.pk, ext=".zip")
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)
    assert listed.get("KeyCount", 0) == 0, "nothing under the final key while S3 was down"

    # The task retries after its pause; the job finishes on its second attempt.
    done = wait_for(
        _finished(Pack, draft=draft), timeout=180, what="the retried pack", worker=worker
    )
    assert (done.status, done.attempts) == (JobStatus.DONE, 2), done.error
    head = s3.client().head_object(Bucket=s3.bucket, Key=done.output_key)
    assert head["ContentLength"] == done.byte_size
