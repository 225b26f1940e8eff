"""The check job's run (apps.checks.runs): decode, measure, store, cancel and failure."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.checks.models import CheckJob, CheckResult, CheckSummary
from apps.checks.runs import draft_checks_run
from apps.checks.tasks import draft_checks_task
from apps.core.models import JobStatus
from tests.checks.builders import check_statuses, run_checks, scene, scene_png
from tests.factories import make_draft
from tests.images import encode_jpeg


def test_the_task_called_as_a_function_stores_every_check_and_finishes_its_job(batch):
    draft = make_draft(batch, name="scene.png", data=scene_png((1200, 1000)))
    draft_checks_task(draft.check_job.pk)
    job = CheckJob.objects.get(pk=draft.check_job.pk)
    assert (job.status, job.progress, job.attempts) == (JobStatus.DONE, 1.0, 1)
    assert set(job.timings) == {"read", "decode", "measure", "store"}
    assert job.spec["channels"] == ["square", "hero"]
    statuses = check_statuses(draft)
    assert set(statuses) == {
        "softness",
        "blockiness",
        "noise",
        "duplicate",
        "resolution.square",
        "resolution.hero",
        "crop.square",
        "crop.hero",
        "resolution.hero_wide",
        "crop.hero_wide",
        "colour.mode",
        "colour.alpha",
        "colour.icc",
        "colour.depth",
    }
    assert statuses["softness"] == statuses["blockiness"] == statuses["noise"] == "pass"
    assert statuses["resolution.square"] == "pass"
    for row in CheckResult.objects.filter(draft=draft):
        assert row.explanation and row.value_label and row.status in ("pass", "warn", "fail")
    summary = CheckSummary.objects.get(draft=draft)
    assert len(summary.phash) == 16 and summary.sharpness > 100
    assert summary.max_upscale == 2.1  # the 21:9 hero banner: 2520 px wide from 1200
    assert summary.worst == "warn"  # a 1.2:1 picture loses 60 % to the 3:1 hero crop
    assert ["warn", "Hero banner 3:1 crop"] in summary.problems


def test_a_512_px_draft_fails_the_hero_banner_with_the_upscale_it_would_need(batch):
    draft = make_draft(batch, data=scene_png((512, 512)))
    run_checks(draft)
    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert hero.status == "fail" and hero.threshold == 4.0
    assert "2400 px wide: ×4.7 from this draft" in hero.explanation
    summary = CheckSummary.objects.get(draft=draft)
    assert ["fail", "Hero banner 3:1 resolution"] in summary.problems


def test_a_blurred_draft_fails_sharpness_and_a_heavy_jpeg_fails_compression(batch):
    soft = make_draft(batch, name="soft.png", data=scene_png(seed=2, blur=3))
    blocky = make_draft(batch, name="blocky.jpg", data=encode_jpeg(scene(seed=3), quality=10))
    run_checks(soft)
    run_checks(blocky)
    assert check_statuses(soft)["softness"] == "fail"
    assert check_statuses(blocky)["blockiness"] == "fail"
    assert check_statuses(blocky)["softness"] != "fail"


def test_a_second_delivery_of_a_finished_job_changes_nothing(batch):
    draft = make_draft(batch, data=scene_png((600, 600)))
    run_checks(draft)
    before = sorted(CheckResult.objects.filter(draft=draft).values_list("pk", flat=True))
    claim = draft_checks_run(job_id=draft.check_job.pk)
    assert not claim.claimed
    assert sorted(CheckResult.objects.filter(draft=draft).values_list("pk", flat=True)) == before


def test_a_file_that_no_longer_decodes_fails_the_job_with_a_clear_message(batch):
    draft = make_draft(batch, data=scene_png((300, 300)))
    default_storage.delete(draft.file_key)
    default_storage.save(draft.file_key, ContentFile(b"\x89PNG\r\n\x1a\n garbage"))
    job = run_checks(draft)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Could not check this file: The image could not be decoded")
    assert not CheckResult.objects.filter(draft=draft).exists()


def test_a_job_cancelled_while_measuring_stores_nothing(batch, mocker):
    draft = make_draft(batch, data=scene_png((300, 300)))
    real = draft_checks_run.__globals__["measure"]

    def cancel_then_measure(decoded):
        CheckJob.objects.filter(pk=draft.check_job.pk).update(status=JobStatus.CANCELLED)
        return real(decoded)

    mocker.patch("apps.checks.runs.measure", side_effect=cancel_then_measure)
    job = run_checks(draft)
    assert job.status == JobStatus.CANCELLED
    assert not CheckResult.objects.filter(draft=draft).exists()


def test_checks_use_the_real_size_not_the_reduced_decode(batch):
    big = scene((3400, 1200), seed=5)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=92)
    draft = make_draft(batch, data=buffer.getvalue())
    run_checks(draft)
    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert hero.status == "pass" and hero.value_label == "no upscale"
