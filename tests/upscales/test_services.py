"""Requesting, cancelling and retrying upscales against the database; dispatch is asserted
with captureOnCommitCallbacks. Running them: test_runs.py."""

from __future__ import annotations

import json

import pytest

from apps.core.errors import Refusal
from apps.core.models import JobStatus
from apps.exports.models import ChannelPreset
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from apps.upscales.selectors import largest_channel_fit
from apps.upscales.services import (
    upscale_cancel,
    upscale_request,
    upscale_request_batch,
    upscale_retry,
)
from tests.factories import make_draft
from tests.images import encode_png, pattern_image
from tests.upscales.builders import kept_draft


def test_only_kept_drafts_can_be_upscaled(cast, batch):
    draft = make_draft(batch)
    with pytest.raises(Refusal, match="Only kept drafts"):
        upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)


def test_a_request_is_dispatched_after_commit_with_json_safe_arguments(
    cast, batch, django_capture_on_commit_callbacks, mocker
):
    draft = kept_draft(batch)
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job, created = upscale_request(draft=draft, by=cast.art_director, model="x4plus", scale=4)
    assert created and len(callbacks) == 1
    name, kwargs = send.call_args.args[0], send.call_args.kwargs
    assert name == "apps.upscales.tasks.upscale_task" and kwargs["queue"] == "gpu"
    assert json.loads(json.dumps(kwargs["args"])) == [job.pk]


def test_an_identical_request_returns_the_existing_job(cast, batch):
    draft = kept_draft(batch)
    first, created = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    again, created_again = upscale_request(
        draft=draft, by=cast.art_director, model="classical", scale=2
    )
    assert created and not created_again and again.pk == first.pk


@pytest.mark.parametrize("scale", [1.0, 0.5, 9, float("nan"), None])
def test_scales_outside_the_range_get_a_clear_message(cast, batch, scale):
    draft = kept_draft(batch)
    with pytest.raises(Refusal, match="above 1 and at most 8"):
        upscale_request(draft=draft, by=cast.art_director, model="classical", scale=scale)


def test_unknown_models_are_refused(cast, batch):
    with pytest.raises(Refusal, match="Unknown model"):
        upscale_request(draft=kept_draft(batch), by=None, model="../../etc", scale=2)


def test_fit_the_largest_target_channel_picks_the_channel_needing_most_pixels(cast, batch):
    cast.campaign.target_channels = ["square", "hero", "vertical"]
    cast.campaign.save()
    draft = kept_draft(batch, data=encode_png(pattern_image((600, 400))))
    fit = largest_channel_fit(draft)
    # square 1080/400 = 2.7, hero 2400/600 = 4, vertical 1920/400 = 4.8 (cover, crop allowed)
    assert fit is not None and fit.channel == "vertical" and fit.scale == 4.8
    job, _ = upscale_request(draft=draft, by=None, model="classical", fit_largest_channel=True)
    assert job.scale == 4.8 and job.fit_channel == "vertical"


def test_a_draft_already_big_enough_needs_no_upscale(cast, batch):
    cast.campaign.target_channels = ["square"]
    cast.campaign.save()
    draft = kept_draft(batch, data=encode_png(pattern_image((1200, 1100))))
    with pytest.raises(Refusal, match="no upscale is needed"):
        upscale_request(draft=draft, by=None, model="classical", fit_largest_channel=True)


def test_the_output_pixel_cap_is_enforced(cast, batch, settings):
    settings.UPSCALE_MAX_OUTPUT_PIXELS = 10_000
    with pytest.raises(Refusal, match="the limit is"):
        upscale_request(draft=kept_draft(batch), by=None, model="classical", scale=4)


def test_a_refused_job_retried_by_a_member_who_may_upscale_runs_as_theirs(cast, batch):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=cast.creator, model="classical", scale=2)
    upscale_run(job_id=job.pk)  # a creator cannot upscale: refused by the worker
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "cannot upscale" in job.error
    assert upscale_retry(job=job, by=cast.art_director)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.requested_by == cast.art_director


def test_retry_requeues_failed_and_cancelled_jobs_only(cast, batch):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=None, model="classical", scale=2)
    assert not upscale_retry(job=job, by=None)  # still queued
    assert upscale_cancel(job=job, by=None)
    assert upscale_retry(job=job, by=None)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 0


def test_batch_request_queues_every_kept_draft_once(cast, batch):
    kept = [kept_draft(batch) for _ in range(3)]
    make_draft(batch)  # undecided: skipped
    first = upscale_request_batch(batch=batch, by=None, model="classical", scale=2)
    second = upscale_request_batch(batch=batch, by=None, model="classical", scale=2)
    assert (first.queued, first.existing) == (3, 0)
    assert (second.queued, second.existing) == (0, 3)
    assert UpscaleJob.objects.filter(draft__in=kept).count() == 3


def test_a_preset_targeted_by_its_slug_is_fitted_and_named_by_that_slug(cast, batch):
    ChannelPreset.objects.create(
        slug="out_of_home_poster_portrait", name="Poster", width=3000, height=4000
    )
    cast.campaign.target_channels = ["out_of_home_poster_portrait"]
    cast.campaign.save()
    draft = kept_draft(batch, data=encode_png(pattern_image((600, 800))))
    job, _ = upscale_request(draft=draft, by=None, model="classical", fit_largest_channel=True)
    assert (job.scale, job.fit_channel) == (5.0, "out_of_home_poster_portrait")
    assert len(job.fit_channel) <= UpscaleJob._meta.get_field("fit_channel").max_length
