"""The upscaled master feeds the exports, and "upscale and export" renders from memory."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage

from apps.core.errors import Refusal
from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.exports.masters import master_for
from apps.exports.models import ChannelPreset, ChannelVersion, ExportJob
from apps.exports.runs import export_run
from apps.exports.services import export_queue
from apps.upscales import hooks
from apps.upscales.hooks import UpscaleFinished
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from apps.upscales.services import upscale_request
from tests.factories import make_draft
from tests.images import encode_png, pattern_image


def _kept(batch, size=(320, 240)) -> Draft:
    draft = make_draft(batch, data=encode_png(pattern_image(size)))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    return draft


def test_a_finished_upscale_records_the_hash_of_the_published_file(cast, batch):
    draft = _kept(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    with default_storage.open(job.output_key, "rb") as fh:
        assert job.output_sha256 == hashlib.sha256(fh.read()).hexdigest()


def test_exports_render_from_the_upscaled_master_once_there_is_one(cast, batch):
    draft = _kept(batch, size=(640, 480))
    assert master_for(draft).source == "original"
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=4)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    master = master_for(draft)
    assert (master.source, master.sha256, master.file_key) == (
        "upscaled",
        job.output_sha256,
        job.output_key,
    )
    assert (master.width, master.height) == (2560, 1920)
    export = export_queue(draft=draft, by=cast.producer)
    export_run(job_id=export.pk)
    versions = ChannelVersion.objects.filter(draft=draft)
    assert versions.exists()
    assert {v.master_sha256 for v in versions} == {job.output_sha256}
    assert {v.master_source for v in versions} == {"upscaled"}


def test_upscale_and_export_renders_the_channel_versions_from_memory(cast, batch, mocker):
    draft = _kept(batch, size=(640, 480))
    job, _ = upscale_request(
        draft=draft, by=cast.art_director, model="classical", scale=4, then_export=True
    )
    opened = mocker.spy(default_storage, "open")
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    export = ExportJob.objects.get(draft=draft)
    assert export.status == JobStatus.DONE, export.error
    assert export.spec["from"] == "upscaled image in memory"
    assert ChannelVersion.objects.filter(draft=draft, master_sha256=job.output_sha256).exists()
    # The upscaled master was never read back from storage to render the versions.
    assert job.output_key not in [c.args[0] for c in opened.call_args_list]


def test_asking_to_export_an_already_finished_upscale_queues_a_cpu_export(cast, batch, mocker):
    draft = _kept(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    again, created = upscale_request(
        draft=draft, by=cast.art_director, model="classical", scale=2, then_export=True
    )
    assert (again.pk, created) == (job.pk, False)
    assert ExportJob.objects.filter(draft=draft, status=JobStatus.QUEUED).count() == 1
    assert UpscaleJob.objects.count() == 1


def test_one_fit_upscale_covers_every_preset_of_the_hero_channel(cast, batch):
    # hero needs 2400×800 (×2.4 from 1000 px), hero_wide 2520×1080 (×2.52): one upscale at the
    # larger need, then both export without a "too small".
    cast.campaign.target_channels = ["hero"]
    cast.campaign.save(update_fields=["target_channels"])
    draft = _kept(batch, size=(1000, 1000))
    job, _ = upscale_request(
        draft=draft, by=cast.art_director, model="classical", fit_largest_channel=True
    )
    assert (job.scale, job.fit_channel) == (2.52, "hero")
    upscale_run(job_id=job.pk)
    export = export_queue(draft=draft, by=cast.producer)
    export_run(job_id=export.pk)
    export.refresh_from_db()
    assert {slug: r["status"] for slug, r in export.report.items()} == {
        "hero": "rendered",
        "hero_wide": "rendered",
    }
    sizes = ChannelVersion.objects.filter(draft=draft).values_list("width", "height")
    assert sorted(sizes) == [(2400, 800), (2520, 1080)]


def test_an_export_refused_for_a_finished_upscale_is_refused_to_the_person(cast, batch):
    draft = _kept(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    ChannelPreset.objects.update(is_active=False)
    with pytest.raises(Refusal, match="No channel presets are active"):
        upscale_request(
            draft=draft, by=cast.art_director, model="classical", scale=2, then_export=True
        )


def test_a_failing_listener_does_not_fail_the_finished_upscale(cast, batch, monkeypatch):
    def broken(event: UpscaleFinished) -> None:
        raise RuntimeError("listener bug")

    monkeypatch.setattr(hooks, "_LISTENERS", [broken])
    draft = _kept(batch)
    job, _ = upscale_request(
        draft=draft, by=cast.art_director, model="classical", scale=2, then_export=True
    )
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert not ExportJob.objects.filter(draft=draft).exists()
