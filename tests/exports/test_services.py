"""Export services against the database: focal, crops, export requests, expiry, the record."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from apps.campaigns.models import AuditEvent, Channel, Membership
from apps.core.errors import Refusal
from apps.drafts.models import Batch, Draft
from apps.drafts.services import reference_add_url
from apps.exports.defaults import default_preset_rows
from apps.exports.masters import master_for
from apps.exports.models import (
    ChannelPreset,
    CropOverride,
    ExportJob,
    FocalSource,
    Pack,
)
from apps.exports.runs import pack_run
from apps.exports.selectors import channel_sheet, presets_for_campaign
from apps.exports.services import (
    crop_override_set,
    export_queue,
    focal_ensure,
    focal_set,
    pack_queue,
    packs_expire,
    record_next_batch,
)
from tests.exports.builders import kept_draft
from tests.factories import make_draft
from workers.focal import Box
from workers.presets import DEFAULT_PRESETS


def test_the_default_presets_are_the_engines_defaults_with_names_and_safe_areas(db):
    rows = {p.slug: p for p in ChannelPreset.objects.all()}
    assert list(rows) == [spec.slug for spec in DEFAULT_PRESETS]
    for spec in DEFAULT_PRESETS:
        assert rows[spec.slug].spec() == spec
    assert (rows["vertical"].safe_top, rows["vertical"].safe_bottom) == (0.14, 0.20)
    assert rows["product_card"].background == "#ffffff"
    assert len(default_preset_rows()) == 10


def test_a_campaign_gets_the_presets_of_its_target_channels(cast):
    cast.campaign.target_channels = [Channel.SQUARE, Channel.HERO]
    slugs = [p.slug for p in presets_for_campaign(cast.campaign)]
    assert slugs == ["square", "hero", "hero_wide"]
    cast.campaign.target_channels = ["square", "youtube_thumbnail"]
    assert [p.slug for p in presets_for_campaign(cast.campaign)] == ["square", "youtube_thumbnail"]
    cast.campaign.target_channels = []
    assert len(presets_for_campaign(cast.campaign)) == 10


def test_the_focal_rectangle_is_proposed_once_and_a_person_can_move_it(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    proposed = focal_ensure(draft=draft)
    assert proposed.source == FocalSource.AUTO
    # pattern_image has its blue disc in the middle: the proposal covers the middle.
    assert proposed.box.contains(Box(1250, 1000, 100, 100))
    assert focal_ensure(draft=draft).pk == proposed.pk
    moved = focal_set(draft=draft, box=Box(100, 200, 300, 400), by=cast.producer)
    assert (moved.source, moved.box, moved.set_by) == (
        "person",
        Box(100, 200, 300, 400),
        cast.producer,
    )
    assert AuditEvent.objects.filter(verb="export.focal_set").count() == 1


def test_a_crop_override_is_locked_to_the_presets_aspect_ratio(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    hero = ChannelPreset.objects.get(slug="hero")
    override = crop_override_set(draft=draft, preset=hero, box=Box(0, 0, 2400, 900), by=None)
    assert abs(override.width / override.height - 3) < 0.01
    sheet = channel_sheet(draft, [hero])
    assert sheet.rows[0].overridden and sheet.rows[0].crop == override.box


def test_only_kept_drafts_are_exported(cast, batch):
    draft = make_draft(batch)
    with pytest.raises(Refusal, match="Only kept drafts"):
        export_queue(draft=draft, by=cast.producer)


def test_an_export_is_published_after_commit_with_json_arguments(
    cast, batch, django_capture_on_commit_callbacks, mocker
):
    draft = kept_draft(batch, cast.art_director)
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=True):
        job = export_queue(draft=draft, by=cast.producer)
        assert send.call_count == 0  # nothing leaves before the commit
    send.assert_called_once_with("apps.exports.tasks.export_task", args=[job.pk], queue="default")
    assert json.loads(json.dumps(send.call_args.kwargs["args"])) == [job.pk]
    assert export_queue(draft=draft, by=cast.producer).pk == job.pk  # no second active job


def test_old_packs_expire_with_their_files_after_commit(
    cast, batch, django_capture_on_commit_callbacks
):
    draft = kept_draft(batch, cast.art_director)
    pack = pack_queue(campaign=cast.campaign, draft=draft, by=None)
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    fresh = pack_queue(campaign=cast.campaign, draft=draft, by=None)
    assert default_storage.exists(pack.output_key)
    Pack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert packs_expire() == 1
    assert not Pack.objects.filter(pk=pack.pk).exists()
    assert not default_storage.exists(pack.output_key)
    assert Pack.objects.filter(pk=fresh.pk).exists()


def test_the_next_batch_carries_the_prompt_references_and_settings(cast, batch):
    draft = kept_draft(batch, cast.art_director, name="rock.png")
    Draft.objects.filter(pk=draft.pk).update(
        prompt="a can on a rock",
        negative_prompt="blurry",
        generator="ComfyUI",
        seed=42,
        parameters={"steps": 30},
    )
    draft.refresh_from_db()
    reference_add_url(draft=draft, url="https://example.com/moodboard", by=None)
    new = record_next_batch(draft=draft, by=cast.art_director)
    assert isinstance(new, Batch) and new.campaign_id == draft.campaign_id
    assert new.name == "Next from rock.png" and new.source == "record"
    carried = Batch.objects.get(pk=new.pk).carried
    assert (carried["prompt"], carried["negative_prompt"]) == ("a can on a rock", "blurry")
    assert (carried["seed"], carried["parameters"]) == (42, {"steps": 30})
    assert [r["url"] for r in carried["references"]] == ["https://example.com/moodboard"]
    assert carried["from_draft"]["id"] == draft.pk
    assert AuditEvent.objects.filter(verb="record.next_batch").exists()


def test_the_next_batch_can_start_in_another_campaign_the_person_may_upload_to(cast, batch):
    draft = kept_draft(batch, cast.art_director, name="rock.png")
    Membership.objects.create(
        campaign=cast.other_campaign, user=cast.art_director, role="art_director"
    )
    new = record_next_batch(draft=draft, by=cast.art_director, campaign=cast.other_campaign)
    assert new.campaign_id == cast.other_campaign.pk
    assert new.carried["from_campaign"]["id"] == cast.campaign.pk
    assert AuditEvent.objects.filter(
        campaign=cast.other_campaign, verb="record.next_batch"
    ).exists()


def test_the_next_batch_cannot_start_in_a_campaign_the_person_is_not_in(cast, batch):
    draft = kept_draft(batch, cast.art_director, name="rock.png")
    with pytest.raises(Http404):
        record_next_batch(draft=draft, by=cast.art_director, campaign=cast.other_campaign)
    assert not Batch.objects.filter(campaign=cast.other_campaign).exists()


def test_crop_overrides_survive_as_original_pixels(cast, batch):
    draft = kept_draft(batch, cast.art_director)
    square = ChannelPreset.objects.get(slug="square")
    crop_override_set(draft=draft, preset=square, box=Box(10, 10, 900, 900), by=None)
    stored = CropOverride.objects.get(draft=draft, preset=square)
    assert stored.box == Box(10, 10, 900, 900)
    assert master_for(draft).width == draft.width
    assert ExportJob.objects.count() == 0
