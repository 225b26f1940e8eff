"""A campaign's channel targets come from the channel presets, and everyone follows an edit."""

from __future__ import annotations

import pytest

from apps.campaigns.channels import campaign_channel_labels, campaign_channel_targets
from apps.checks.models import CheckResult
from apps.checks.runs import draft_checks_run
from apps.exports.models import ChannelPreset, ChannelVersion
from apps.exports.runs import export_run
from apps.exports.selectors import presets_for_campaign
from apps.exports.services import export_queue
from apps.upscales.runs import upscale_run
from apps.upscales.selectors import largest_channel_fit
from apps.upscales.services import upscale_request
from tests.exports.builders import kept_draft


def _target(campaign, *values: str) -> None:
    campaign.target_channels = list(values)
    campaign.save(update_fields=["target_channels"])


def test_a_campaign_targeting_hero_gets_both_hero_presets_with_their_sizes_and_names(cast):
    _target(cast.campaign, "hero")
    targets = campaign_channel_targets(cast.campaign)
    assert [(t.channel, t.slug, t.label, t.size) for t in targets] == [
        ("hero", "hero", "Hero banner 3:1", (2400, 800)),
        ("hero", "hero_wide", "Hero banner 21:9", (2520, 1080)),
    ]


def test_a_preset_can_be_targeted_by_slug_and_unknown_values_pick_nothing(cast):
    _target(cast.campaign, "youtube_thumbnail", "billboard")
    assert [t.slug for t in campaign_channel_targets(cast.campaign)] == ["youtube_thumbnail"]
    # Exports still fall back to every preset when nothing matches; the targets do not.
    _target(cast.campaign, "billboard")
    assert campaign_channel_targets(cast.campaign) == []
    assert len(presets_for_campaign(cast.campaign)) == ChannelPreset.objects.count()


def test_a_campaign_naming_no_channel_has_no_targets(cast):
    _target(cast.campaign)
    assert campaign_channel_targets(cast.campaign) == []
    assert cast.campaign.channel_labels == []


def test_an_inactive_preset_is_no_target(cast):
    _target(cast.campaign, "hero")
    ChannelPreset.objects.filter(slug="hero_wide").update(is_active=False)
    assert [t.slug for t in campaign_channel_targets(cast.campaign)] == ["hero"]


def test_the_labels_are_the_preset_names_in_the_campaigns_order_and_typos_stay_visible(cast):
    _target(cast.campaign, "square", "hero", "hero_wide", "bilboard")
    ChannelPreset.objects.filter(slug="square").update(name="Square post")
    assert campaign_channel_labels(cast.campaign) == [
        "Square post",
        "Hero banner 3:1",
        "Hero banner 21:9",
        "bilboard",
    ]
    assert cast.campaign.channel_labels == campaign_channel_labels(cast.campaign)


def test_checks_the_fit_upscale_and_exports_follow_an_edited_preset(cast, batch):
    _target(cast.campaign, "hero")
    draft = kept_draft(batch, cast.art_director, size=(800, 800))
    # Staff make the 3:1 banner a taller 2:1 and larger than the 21:9 one.
    ChannelPreset.objects.filter(slug="hero").update(width=2800, height=1400)

    draft_checks_run(job_id=draft.check_job.pk)
    results = {r.key: r for r in CheckResult.objects.filter(draft=draft)}
    assert results["resolution.hero"].value == pytest.approx(2800 / 800)
    assert "needs 2800 px wide" in results["resolution.hero"].explanation
    assert results["crop.hero"].value == pytest.approx(0.5)  # 2:1 from a square
    assert results["resolution.hero_wide"].value == pytest.approx(2520 / 800, abs=0.001)

    fit = largest_channel_fit(draft)
    assert fit is not None and (fit.size, fit.scale) == ((2800, 1400), 3.5)

    job, _ = upscale_request(
        draft=draft, by=cast.art_director, model="classical", fit_largest_channel=True
    )
    upscale_run(job_id=job.pk)
    export = export_queue(draft=draft, by=cast.producer)
    export_run(job_id=export.pk)
    export.refresh_from_db()
    assert {slug: r["status"] for slug, r in export.report.items()} == {
        "hero": "rendered",
        "hero_wide": "rendered",
    }
    hero = ChannelVersion.objects.get(draft=draft, preset__slug="hero")
    assert (hero.width, hero.height) == (2800, 1400)
