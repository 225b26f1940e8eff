"""Exports and packs through a real Celery worker over PostgreSQL and Redis."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from apps.core.models import JobStatus
from apps.exports.models import ChannelVersion, ExportJob, Pack
from apps.exports.services import preset_defaults_ensure
from tests.exports.builders import kept_draft
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live


def test_a_producer_exports_a_kept_draft_and_downloads_its_pack_from_the_worker(
    cast, batch, worker
):
    preset_defaults_ensure()
    # Previews are made by the live worker too; wait for them before the keep decision.
    draft = kept_draft(batch, cast.art_director, size=(2600, 2100))
    client = cast.client("producer")
    response = client.post(reverse("exports:export-draft", args=[draft.pk]))
    assert response.status_code == 302

    def export_done():
        job = ExportJob.objects.filter(draft=draft).first()
        return job if job and job.status in (JobStatus.DONE, JobStatus.FAILED) else None

    job = wait_for(export_done, what="the export job", worker=worker)
    assert job.status == JobStatus.DONE, job.error
    assert (job.progress, job.attempts) == (1.0, 1)
    versions = ChannelVersion.objects.filter(draft=draft)
    assert versions.count() == 3
    assert all(default_storage.exists(v.file_key) for v in versions)

    client.post(reverse("exports:pack-create-draft", args=[draft.pk]))

    def pack_done():
        pack = Pack.objects.filter(draft=draft).first()
        return pack if pack and pack.status in (JobStatus.DONE, JobStatus.FAILED) else None

    pack = wait_for(pack_done, what="the pack job", worker=worker)
    assert pack.status == JobStatus.DONE, pack.error
    body = b"".join(client.get(reverse("exports:pack-download", args=[pack.pk])).streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert {f["preset"] for f in manifest["files"] if f["role"] == "export"} == {
        "square",
        "hero",
        "hero_wide",
    }
    assert "apps.exports.tasks.export_task" in worker.output()
