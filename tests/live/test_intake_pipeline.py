"""Intake through the web, previews through a real worker, over PostgreSQL and Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.core.jobs import sweep_jobs
from apps.core.models import JobStatus
from apps.drafts.models import Draft, PreviewJob, Rendition
from apps.drafts.services import draft_intake
from tests.images import HOSTILE_CASES, jpeg_bytes, png_bytes
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live


def _all_done(n: int) -> bool:
    return PreviewJob.objects.filter(status=JobStatus.DONE).count() == n


def test_a_batch_uploaded_through_the_web_gets_previews_from_the_worker(cast, batch, worker):
    client = cast.client("creator")
    url = reverse("drafts:upload-file", args=[batch.pk])
    files = {
        "a.png": png_bytes(size=(1200, 800), color=(20, 120, 130)),
        "b.jpg": jpeg_bytes(size=(900, 1200), color=(230, 140, 40)),
        "c.jpg": HOSTILE_CASES["cmyk_jpeg"]()[1],
        "broken.png": HOSTILE_CASES["truncated_png"]()[1],
    }
    statuses = [
        client.post(
            url, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT="application/json"
        ).json()["status"]
        for name, data in files.items()
    ]
    assert statuses == ["added", "added", "added", "rejected"]

    wait_for(lambda: _all_done(3), what="three preview jobs to finish", worker=worker)
    for draft in Draft.objects.all():
        names = set(draft.renditions.values_list("name", flat=True))
        assert names == {"thumb", "preview"}
        for rendition in draft.renditions.all():
            assert default_storage.exists(rendition.file_key)
    job = PreviewJob.objects.first()
    assert (job.progress, job.attempts) == (1.0, 1)
    assert set(job.timings) == {"read", "render", "listeners", "store"}
    thumb = client.get(reverse("drafts:image", args=[Draft.objects.first().pk, "thumb"]))
    assert thumb["Content-Type"] == "image/webp"


def test_a_job_whose_message_was_never_published_is_finished_after_the_sweeper_runs(
    batch, worker, mocker
):
    # The web process "dies" between committing the row and publishing the message.
    mocker.patch("apps.core.jobs.job_publish")
    draft = draft_intake(batch=batch, uploaded_by=None, name="lost.png", upload=png_bytes()).draft
    mocker.stopall()
    PreviewJob.objects.update(queued_at=timezone.now() - timedelta(minutes=10))
    assert sweep_jobs()["republished"] == 1
    wait_for(lambda: _all_done(1), what="the swept job to finish", worker=worker)
    assert Rendition.objects.filter(draft=draft).count() == 2


def test_a_redelivered_message_for_a_finished_job_is_a_no_op(batch, worker):
    from celery import current_app

    draft = draft_intake(batch=batch, uploaded_by=None, name="x.png", upload=png_bytes()).draft
    wait_for(lambda: _all_done(1), what="the preview job", worker=worker)
    keys = sorted(Rendition.objects.values_list("file_key", flat=True))
    current_app.send_task(
        "apps.drafts.tasks.draft_preview_task", args=[draft.preview_job.pk], queue="default"
    )
    wait_for(lambda: worker.output().count("succeeded") >= 2, what="the second delivery")
    job = PreviewJob.objects.get()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert sorted(Rendition.objects.values_list("file_key", flat=True)) == keys
