"""Placement results (resolution and crop fit per channel preset) follow an edited preset or a
campaign's new target channels without decoding anything again."""

from __future__ import annotations

import pytest

from apps.campaigns.services import campaign_update
from apps.checks.models import CheckJob, CheckResult, CheckSummary
from apps.checks.services import placement_results_refresh
from apps.checks.tasks import placements_refresh_task
from apps.exports.admin import ChannelPresetAdmin
from apps.exports.models import ChannelPreset
from tests.checks.builders import run_checks, scene_png
from tests.factories import make_draft


def _rows(draft) -> list[tuple[str, str]]:
    return list(
        CheckResult.objects.filter(draft=draft).order_by("position").values_list("key", "status")
    )


def test_an_edited_preset_rejudges_the_placements_of_every_checked_draft(cast, batch):
    cast.campaign.target_channels = ["hero"]
    cast.campaign.save(update_fields=["target_channels"])
    draft = make_draft(batch, data=scene_png((800, 800)))
    run_checks(draft)
    before = _rows(draft)
    softness = CheckResult.objects.get(draft=draft, key="softness")
    assert CheckSummary.objects.get(draft=draft).worst == "warn"
    ChannelPreset.objects.filter(slug="hero").update(width=4000, height=2000)

    assert placement_results_refresh(campaign=cast.campaign) == 1

    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert (hero.value, hero.status) == (pytest.approx(4000 / 800), "fail")
    assert "needs 4000 px wide" in hero.explanation
    assert CheckResult.objects.get(draft=draft, key="crop.hero").value == pytest.approx(0.5)
    # The other rows are untouched and the order of the draft's rows is the run's.
    assert CheckResult.objects.get(draft=draft, key="softness") == softness
    assert [key for key, _ in _rows(draft)] == [key for key, _ in before]
    summary = CheckSummary.objects.get(draft=draft)
    assert summary.max_upscale == pytest.approx(4000 / 800)
    assert (summary.worst, summary.fail_count) == ("fail", 1)
    assert summary.problems[0] == ["fail", "Hero banner 3:1 resolution"]
    assert CheckJob.objects.get(draft=draft).spec["placements"][0] == ["hero", 4000, 2000]


def test_new_target_channels_replace_the_old_placement_rows(cast, batch):
    draft = make_draft(batch, data=scene_png((600, 600)))
    run_checks(draft)
    cast.campaign.target_channels = ["vertical"]
    cast.campaign.save(update_fields=["target_channels"])

    placement_results_refresh(campaign=cast.campaign)

    keys = [key for key, _ in _rows(draft)]
    assert {"resolution.vertical", "crop.vertical"} <= set(keys)
    assert not {"resolution.hero", "resolution.square"} & set(keys)
    assert len(keys) == len(set(keys))
    assert CheckJob.objects.get(draft=draft).spec["channels"] == ["vertical"]


def test_a_campaign_edit_of_its_channels_sends_the_refresh_after_commit(
    cast, django_capture_on_commit_callbacks, mocker
):
    delay = mocker.patch.object(placements_refresh_task, "delay")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(campaign=cast.campaign, by=cast.art_director, name="Renamed")
    delay.assert_not_called()  # only a change of channels re-judges
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(campaign=cast.campaign, by=cast.art_director, target_channels=["square"])
    delay.assert_called_once_with([cast.campaign.pk])


def test_a_preset_saved_in_the_admin_sends_the_refresh_for_every_campaign(
    cast, rf, django_capture_on_commit_callbacks, mocker
):
    from django.contrib.admin.sites import site

    delay = mocker.patch.object(placements_refresh_task, "delay")
    preset = ChannelPreset.objects.get(slug="hero")
    preset.width = 3000
    with django_capture_on_commit_callbacks(execute=True):
        ChannelPresetAdmin(ChannelPreset, site).save_model(rf.post("/"), preset, None, True)
    delay.assert_called_once_with(None)


def test_the_task_rejudges_live_campaigns_and_leaves_archived_ones_as_they_were(cast, batch):
    from django.utils import timezone

    from tests.factories import BatchFactory, CampaignFactory

    archived = CampaignFactory(target_channels=["square"])
    old = make_draft(BatchFactory(campaign=archived), data=scene_png((600, 600), seed=2))
    draft = make_draft(batch, data=scene_png((600, 600)))
    run_checks(draft)
    run_checks(old)
    type(archived).objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    ChannelPreset.objects.filter(slug__in=["hero", "square"]).update(width=6000, height=2000)
    cast.campaign.target_channels = ["hero"]
    cast.campaign.save(update_fields=["target_channels"])

    placements_refresh_task(None)

    assert CheckResult.objects.get(draft=draft, key="resolution.hero").status == "fail"
    assert CheckResult.objects.get(draft=old, key="resolution.square").status == "pass"


def test_a_preset_edited_while_the_checks_run_is_judged_on_its_new_size(cast, batch, mocker):
    from apps.checks import runs

    cast.campaign.target_channels = ["hero"]
    cast.campaign.save(update_fields=["target_channels"])
    draft = make_draft(batch, data=scene_png((800, 800)))
    real_measure = runs.measure

    def measure_while_staff_edit(decoded):
        # The refresh sent for the edit runs before this run stores its results.
        ChannelPreset.objects.filter(slug="hero").update(width=4000, height=2000)
        placement_results_refresh(campaign=cast.campaign)
        return real_measure(decoded)

    mocker.patch.object(runs, "measure", side_effect=measure_while_staff_edit)
    job = run_checks(draft)

    hero = CheckResult.objects.get(draft=draft, key="resolution.hero")
    assert (hero.value, hero.status) == (pytest.approx(4000 / 800), "fail")
    assert job.spec["placements"][0] == ["hero", 4000, 2000]
    assert job.spec["decode_side"] > 0
