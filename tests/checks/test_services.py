from __future__ import annotations

import json

from PIL import Image

from apps.campaigns.models import AuditEvent
from apps.checks.models import CheckResult, CheckSummary
from apps.checks.services import check_rerun
from apps.core.models import JobStatus
from tests.checks.builders import check_statuses, run_checks, scene, scene_png
from tests.factories import BatchFactory, make_draft
from tests.images import encode_jpeg


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


def test_a_rerun_replaces_the_results_in_one_go_and_picks_up_new_channels(
    cast, batch, django_capture_on_commit_callbacks
):
    draft = make_draft(batch, data=scene_png((600, 600)))
    run_checks(draft)
    cast.campaign.target_channels = ["vertical"]
    cast.campaign.save(update_fields=["target_channels"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert check_rerun(draft=draft, by=cast.reviewer)
    assert len(callbacks) == 1
    assert not check_rerun(draft=draft, by=cast.reviewer)  # already queued
    run_checks(draft)
    keys = set(check_statuses(draft))
    assert {"resolution.vertical", "crop.vertical"} <= keys
    assert not keys & {"resolution.hero", "crop.hero", "resolution.square"}
    assert CheckResult.objects.filter(draft=draft, key="softness").count() == 1
    assert AuditEvent.objects.filter(verb="checks.rerun", actor=cast.reviewer).count() == 1


def test_near_duplicates_are_grouped_across_the_batches_of_one_campaign(cast, batch):
    original = scene(seed=11)
    first = make_draft(batch, name="first.png", data=scene_png(seed=11))
    run_checks(first)
    assert check_statuses(first)["duplicate"] == "pass"

    resized = original.resize((800, 800), Image.Resampling.LANCZOS)
    later = BatchFactory(campaign=cast.campaign, name="Round 2")
    copy = make_draft(later, name="copy.jpg", data=encode_jpeg(resized, quality=80))
    other = make_draft(later, name="other.png", data=scene_png(seed=12))
    elsewhere = make_draft(
        BatchFactory(campaign=cast.other_campaign), name="theirs.png", data=scene_png(seed=11)
    )
    for draft in (copy, other, elsewhere):
        run_checks(draft)

    summaries = {s.draft_id: s for s in CheckSummary.objects.all()}
    assert summaries[first.pk].dup_group == summaries[copy.pk].dup_group == first.pk
    assert summaries[first.pk].dup_size == 2
    assert summaries[other.pk].dup_group is None
    assert summaries[elsewhere.pk].dup_group is None  # another campaign is never compared
    # The earlier draft's row and roll-up were rewritten when its copy arrived.
    assert check_statuses(first)["duplicate"] == "warn"
    assert ["warn", "Near-duplicates"] in summaries[first.pk].problems
    row = CheckResult.objects.get(draft=first, key="duplicate")
    assert "Looks like 1 other draft" in row.explanation


def test_flat_colour_drafts_are_not_taken_for_duplicates_of_each_other(batch):
    drafts = [make_draft(batch) for _ in range(3)]
    for draft in drafts:
        run_checks(draft)
    assert not CheckSummary.objects.filter(dup_group__isnull=False).exists()
    row = CheckResult.objects.get(draft=drafts[0], key="duplicate")
    assert row.status == "pass" and "too little structure" in row.explanation
