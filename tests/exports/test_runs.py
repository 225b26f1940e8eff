"""Export jobs' run (apps.exports.runs): rendering, reuse, redelivery, failures, the master."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.core.models import JobStatus
from apps.exports.models import ChannelPreset, ChannelVersion
from apps.exports.runs import export_run
from apps.exports.selectors import presets_for_campaign
from apps.exports.services import crop_override_set, export_queue, focal_set
from apps.exports.tasks import export_task
from tests.exports.builders import kept_draft
from tests.images import jpeg_bytes
from workers.focal import Box


def test_an_export_renders_every_preset_and_repeating_it_reuses_the_files(cast, batch, mocker):
    draft = kept_draft(batch, cast.art_director)
    job = export_queue(draft=draft, by=cast.producer)
    export_task(job.pk)  # the task, called as a function
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert set(job.timings) >= {"focal", "read", "render", "store"}
    presets = presets_for_campaign(draft.campaign)
    assert {v["status"] for v in job.report.values()} == {"rendered"}
    versions = ChannelVersion.objects.filter(draft=draft)
    assert versions.count() == len(presets)
    for version in versions:
        assert default_storage.exists(version.file_key)
        assert version.master_sha256 == draft.sha256

    render = mocker.patch("apps.exports.runs.render_channel_versions")
    again = export_queue(draft=draft, by=cast.producer)
    export_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == JobStatus.DONE
    assert {v["status"] for v in again.report.values()} == {"reused"}
    render.assert_not_called()
    assert ChannelVersion.objects.filter(draft=draft).count() == len(presets)


def test_a_moved_crop_renders_only_that_channel_again(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    export_run(job_id=export_queue(draft=draft, by=None).pk)
    square = ChannelPreset.objects.get(slug="square")
    crop_override_set(draft=draft, preset=square, box=Box(0, 0, 1200, 1200), by=None)
    job = export_queue(draft=draft, by=None)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.report["square"]["status"] == "rendered"
    assert {v["status"] for k, v in job.report.items() if k != "square"} == {"reused"}
    assert ChannelVersion.objects.filter(draft=draft, preset=square).count() == 2


def test_presets_too_big_for_the_master_are_reported_with_the_upscale_that_fixes_them(cast, batch):
    cast.campaign.target_channels = []
    cast.campaign.save()
    draft = kept_draft(batch, cast.art_director, size=(1200, 800))
    job = export_queue(draft=draft, by=None)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.report["product_card"]["status"] == "too_small"
    assert job.report["product_card"]["upscale_needed"] == pytest.approx(2.56)
    assert "×4 would fix it" in job.report["product_card"]["warnings"][-1]
    assert job.report["link_image"]["status"] == "rendered"
    assert "too small" in job.message
    assert not ChannelVersion.objects.filter(draft=draft, preset__slug="product_card").exists()


def test_a_redelivered_message_for_a_finished_export_is_a_no_op(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    job = export_queue(draft=draft, by=None)
    export_run(job_id=job.pk)
    claim = export_run(job_id=job.pk)
    assert not claim.claimed
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


def test_an_export_of_a_missing_job_returns_quietly(db):
    assert not export_run(job_id=987654).claimed


def test_a_master_that_vanished_from_storage_fails_the_job_with_a_message(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    default_storage.delete(draft.file_key)
    job = export_queue(draft=draft, by=None)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error.startswith("Could not export")


def test_the_upscaled_master_plugs_in_through_master_for(cast, batch, mocker):
    from apps.exports.masters import Master

    draft = kept_draft(batch, cast.art_director, size=(1000, 800))
    big = jpeg_bytes(size=(4000, 3200), color=(10, 120, 90))
    key = "campaigns/test/upscaled.jpg"
    default_storage.save(key, ContentFile(big))
    upscaled = Master(
        file_key=key,
        width=4000,
        height=3200,
        sha256="b" * 64,
        format="JPEG",
        source="upscaled",
        label="Real-ESRGAN x4plus ×4",
        upscale_model="RealESRGAN_x4plus",
        upscale_weights_sha256="c" * 64,
        upscale_factor=4,
    )
    for where in ("runs", "selectors"):
        mocker.patch(f"apps.exports.{where}.master_for", return_value=upscaled)
    focal_set(draft=draft, box=Box(100, 100, 200, 200), by=None)
    job = export_queue(draft=draft, by=None)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert {v["status"] for v in job.report.values()} == {"rendered"}
    square = ChannelVersion.objects.get(draft=draft, preset__slug="square")
    assert square.master_sha256 == "b" * 64 and square.master_source == "upscaled"
    assert square.crop.contains(Box(400, 400, 800, 800))  # the focal box, scaled ×4
