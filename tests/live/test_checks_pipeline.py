"""Automatic checks through a real worker, over PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.checks.models import CheckJob, CheckResult, CheckSummary
from apps.core.models import JobStatus
from tests.checks.builders import scene_png
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live


def _checked(n: int) -> bool:
    return CheckJob.objects.filter(status=JobStatus.DONE).count() == n


def test_uploaded_drafts_are_checked_by_the_worker_and_grouped_as_near_duplicates(
    cast, batch, channel_presets, worker
):
    client = cast.client("creator")
    url = reverse("drafts:upload-file", args=[batch.pk])
    files = {
        "original.png": scene_png((900, 900), seed=61),
        "copy.png": scene_png((900, 900), seed=61, blur=0.6),
        "small.png": scene_png((400, 400), seed=62),
    }
    for name, data in files.items():
        response = client.post(
            url, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT="application/json"
        )
        assert response.json()["status"] == "added"

    wait_for(lambda: _checked(3), what="three check jobs to finish", worker=worker)
    job = CheckJob.objects.select_related("draft").get(draft__original_name="small.png")
    assert (job.progress, job.attempts) == (1.0, 1)
    assert set(job.timings) == {"read", "decode", "measure", "store"}
    hero = CheckResult.objects.get(draft=job.draft, key="resolution.hero")
    assert hero.status == "fail"
    groups = dict(CheckSummary.objects.values_list("draft__original_name", "dup_group"))
    assert groups["original.png"] is not None and groups["original.png"] == groups["copy.png"]
    assert groups["small.png"] is None
