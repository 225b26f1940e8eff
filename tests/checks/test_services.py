from __future__ import annotations

import io
import json

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from apps.campaigns.models import AuditEvent
from apps.checks.models import CheckJob, CheckResult, CheckSummary
from apps.checks.runs import draft_checks_run
from apps.checks.services import check_rerun
from apps.checks.tasks import draft_checks_task
from apps.core.models import JobStatus
from tests.checks.builders import scene, scene_png
from tests.factories import BatchFactory, make_draft
from tests.images import encode_jpeg


def _run(draft) -> CheckJob:
    draft_checks_run(job_id=draft.check_job.pk)
    return CheckJob.objects.get(pk=draft.check_job.pk)


def _statuses(draft) -> dict[str, str]:
    return dict(CheckResult.objects.filter(draft=draft).values_list("key", "status"))


def test_intake_queues_a_check_job_that_is_dispatched_after_commit(
    batch, django_capture_on_commit_callbacks, mocker
):
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draft = make_draft(batch)
    send.assert_not_called()  # nothing leaves before the transaction commits
    assert draft.check_job.status == JobStatus.QUEUED
    for callback in callbacks:
        callback()
    (call,) = [c for c in send.call_args_list if c.args[0] == "apps.checks.tasks.draft_checks_task"]
    assert json.loads(json.dumps(call.kwargs["args"])) == [draft.check_job.pk]
    assert call.kwargs["queue"] == "default"


def test_the_task_called_as_a_function_stores_every_check_and_finishes_its_job(batch):
    draft = make_draft(batch, name="scene.png", data=scene_png((1200, 1000)))
    draft_checks_task(draft.check_job.pk)
    job = CheckJob.objects.get(pk=draft.check_job.pk)
    assert (job.status, job.progress, job.attempts) == (JobStatus.DONE, 1.0, 1)
    assert set(job.timings) == {"read", "decode", "measure", "store"}
    assert job.spec["channels"] == ["square", "hero"]
    statuses = _statuses(draft)
    assert set(statuses) == {
        "softness",
        "blockiness",
        "noise",
        "duplicate",
        "resolution.square",
        "resolution.hero",
        "crop.square",
        "crop.hero",
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
    assert summary.max_upscale == 2.0  # the hero banner: 2400 px wide from 1200
    assert summary.worst == "warn"  # a 1.2:1 picture loses 60 % to the 3:1 hero crop
    assert ["warn", "Hero banner crop"] in summary.problems


def test_a_512_px_draft_fails_the_hero_banner_with_the_upscale_it_would_need(batch):
    draft = make_draft(batch, data=scene_png((512, 512)))
    _run(draft)
    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert hero.status == "fail" and hero.threshold == 4.0
    assert "2400 px wide: ×4.7 from this draft" in hero.explanation
    summary = CheckSummary.objects.get(draft=draft)
    assert ["fail", "Hero banner resolution"] in summary.problems


def test_a_blurred_draft_fails_sharpness_and_a_heavy_jpeg_fails_compression(batch):
    soft = make_draft(batch, name="soft.png", data=scene_png(seed=2, blur=3))
    blocky = make_draft(batch, name="blocky.jpg", data=encode_jpeg(scene(seed=3), quality=10))
    _run(soft)
    _run(blocky)
    assert _statuses(soft)["softness"] == "fail"
    assert _statuses(blocky)["blockiness"] == "fail"
    assert _statuses(blocky)["softness"] != "fail"


def test_a_second_delivery_of_a_finished_job_changes_nothing(batch):
    draft = make_draft(batch, data=scene_png((600, 600)))
    _run(draft)
    before = sorted(CheckResult.objects.filter(draft=draft).values_list("pk", flat=True))
    claim = draft_checks_run(job_id=draft.check_job.pk)
    assert not claim.claimed
    assert sorted(CheckResult.objects.filter(draft=draft).values_list("pk", flat=True)) == before


def test_a_rerun_replaces_the_results_in_one_go_and_picks_up_new_channels(
    cast, batch, django_capture_on_commit_callbacks
):
    draft = make_draft(batch, data=scene_png((600, 600)))
    _run(draft)
    cast.campaign.target_channels = ["vertical"]
    cast.campaign.save(update_fields=["target_channels"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert check_rerun(draft=draft, by=cast.reviewer)
    assert len(callbacks) == 1
    assert not check_rerun(draft=draft, by=cast.reviewer)  # already queued
    _run(draft)
    keys = set(_statuses(draft))
    assert {"resolution.vertical", "crop.vertical"} <= keys
    assert not keys & {"resolution.hero", "crop.hero", "resolution.square"}
    assert CheckResult.objects.filter(draft=draft, key="softness").count() == 1
    assert AuditEvent.objects.filter(verb="checks.rerun", actor=cast.reviewer).count() == 1


def test_near_duplicates_are_grouped_across_the_batches_of_one_campaign(cast, batch):
    original = scene(seed=11)
    first = make_draft(batch, name="first.png", data=scene_png(seed=11))
    _run(first)
    assert _statuses(first)["duplicate"] == "pass"

    resized = original.resize((800, 800), Image.Resampling.LANCZOS)
    later = BatchFactory(campaign=cast.campaign, name="Round 2")
    copy = make_draft(later, name="copy.jpg", data=encode_jpeg(resized, quality=80))
    other = make_draft(later, name="other.png", data=scene_png(seed=12))
    elsewhere = make_draft(
        BatchFactory(campaign=cast.other_campaign), name="theirs.png", data=scene_png(seed=11)
    )
    for draft in (copy, other, elsewhere):
        _run(draft)

    summaries = {s.draft_id: s for s in CheckSummary.objects.all()}
    assert summaries[first.pk].dup_group == summaries[copy.pk].dup_group == first.pk
    assert summaries[first.pk].dup_size == 2
    assert summaries[other.pk].dup_group is None
    assert summaries[elsewhere.pk].dup_group is None  # another campaign is never compared
    # The earlier draft's row and roll-up were rewritten when its copy arrived.
    assert _statuses(first)["duplicate"] == "warn"
    assert ["warn", "Near-duplicates"] in summaries[first.pk].problems
    row = CheckResult.objects.get(draft=first, key="duplicate")
    assert "Looks like 1 other draft" in row.explanation


def test_flat_colour_drafts_are_not_taken_for_duplicates_of_each_other(batch):
    drafts = [make_draft(batch) for _ in range(3)]
    for draft in drafts:
        _run(draft)
    assert not CheckSummary.objects.filter(dup_group__isnull=False).exists()
    row = CheckResult.objects.get(draft=drafts[0], key="duplicate")
    assert row.status == "pass" and "too little structure" in row.explanation


def test_a_file_that_no_longer_decodes_fails_the_job_with_a_clear_message(batch):
    draft = make_draft(batch, data=scene_png((300, 300)))
    default_storage.delete(draft.file_key)
    default_storage.save(draft.file_key, ContentFile(b"\x89PNG\r\n\x1a\n garbage"))
    job = _run(draft)
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
    job = _run(draft)
    assert job.status == JobStatus.CANCELLED
    assert not CheckResult.objects.filter(draft=draft).exists()


def test_checks_use_the_real_size_not_the_reduced_decode(batch):
    big = scene((3400, 1200), seed=5)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=92)
    draft = make_draft(batch, data=buffer.getvalue())
    _run(draft)
    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert hero.status == "pass" and hero.value_label == "no upscale"
