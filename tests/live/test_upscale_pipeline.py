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


def test_the_threaded_gpu_worker_runs_two_upscales_at_once_taking_turns_on_the_device(
    pinned_model, cast, batch, gpu_worker
):
    """The gpu worker as docker-compose.yml runs it (`--pool threads --concurrency 2`) over
    PostgreSQL and Redis: both jobs are held at once, their network passes take turns (the
    second waits for the device and records it), both finish on the first attempt."""
    from apps.upscales.services import upscale_request

    drafts = [
        make_draft(batch, data=encode_png(pattern_image(size)))  # two files: no duplicate
        for size in ((160, 120), (152, 112))
    ]
    Draft.objects.filter(pk__in=[d.pk for d in drafts]).update(decision=Decision.KEEP)
    # Queued back to back, so the worker's two threads take one each.
    jobs = [
        upscale_request(draft=Draft.objects.get(pk=d.pk), by=None, model="general-x4v3", scale=4)[0]
        for d in drafts
    ]

    def finished() -> list[UpscaleJob] | None:
        rows = list(UpscaleJob.objects.filter(pk__in=[j.pk for j in jobs]).order_by("started_at"))
        done = all(r.status in (JobStatus.DONE, JobStatus.FAILED) for r in rows)
        return rows if done else None

    first, second = wait_for(finished, timeout=180, what="both upscales", worker=gpu_worker)
    log = gpu_worker.output()
    assert "concurrency: 2 (thread)" in log, log[-3000:]
    for job in (first, second):
        assert job.status == JobStatus.DONE and job.attempts == 1, job.error
        assert {"decode", "gpu_wait", "infer", "encode", "store"} <= set(job.timings)
        assert default_storage.exists(job.output_key)
    # Held at once: the second started before the first finished, and waited for the device.
    assert second.started_at < first.finished_at
    # Both were on their way at once, so whichever reached the device second waited for it.
    assert max(first.timings["gpu_wait"], second.timings["gpu_wait"]) > 0.1
