"""An upscale queued through the web and run by a real Celery worker process (gpu queue) over
PostgreSQL and Redis, with a real Real-ESRGAN architecture (random weights, pinned by
UPSCALE_PINS as an operator would pin a checkpoint of their own)."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.models import UpscaleJob
from tests.factories import make_draft
from tests.images import encode_png, pattern_image
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live


def test_an_upscale_queued_on_the_draft_page_is_made_by_the_gpu_worker(
    pinned_model, cast, batch, worker
):
    draft = make_draft(batch, data=encode_png(pattern_image((64, 48))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    client = cast.client("art_director")
    response = client.post(
        reverse("upscales:create", args=[draft.pk]),
        {"model": "general-x4v3", "target": "4"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content

    job = wait_for(
        lambda: UpscaleJob.objects.filter(status__in=[JobStatus.DONE, JobStatus.FAILED]).first(),
        timeout=120,
        what="the upscale job to finish",
        worker=worker,
    )
    assert job.status == JobStatus.DONE, job.error
    assert job.progress == 1.0 and job.attempts == 1
    assert job.neural and job.used_model == "general-x4v3"
    assert job.weights_sha256 == pinned_model.sha256
    assert {"read", "decode", "infer", "encode", "store"} <= set(job.timings)
    assert default_storage.exists(job.output_key)
    download = client.get(reverse("upscales:download", args=[job.pk]))
    with Image.open(io.BytesIO(b"".join(download.streaming_content))) as im:
        assert im.size == (256, 192)
    assert "upscale_task" in worker.output()
