"""A reviewer narrows a batch to the drafts an automatic check flags, then reads why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from tests.browser.conftest import log_in, shot
from tests.checks.builders import scene_png
from tests.core.builders import run_queued
from tests.drafts.builders import run_previews
from tests.factories import PASSWORD, make_draft

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_presets"),
]


def test_a_reviewer_filters_the_grid_by_a_failing_check_and_reads_the_details(cast, batch, page):
    make_draft(batch, name="crisp.png", data=scene_png((1024, 1024), seed=51))
    soft = make_draft(batch, name="soft.png", data=scene_png((1024, 1024), seed=52, blur=3))
    make_draft(batch, name="small.png", data=scene_png((512, 512), seed=53))
    run_previews()
    run_queued(CheckJob, draft_checks_run)

    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/batches/{batch.pk}/")
    expect(page.locator(".tile")).to_have_count(3)
    expect(page.locator(".tile .check-badge.check-fail")).to_have_count(2)
    expect(page.locator("#check-apply")).to_be_hidden()  # the selects apply on change
    shot(page, "checks-grid")

    page.select_option("#check-filter", "fail")
    expect(page).to_have_url(re.compile(r"check=fail"))
    expect(page.locator(".tile")).to_have_count(2)
    expect(page.locator("#check-apply")).to_be_hidden()  # the script is listening again

    page.select_option("#check-filter", "softness")
    expect(page).to_have_url(re.compile(r"check=softness"))
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".tile .name")).to_have_text("soft.png")
    shot(page, "checks-grid-filtered")

    page.click(".tile a")
    expect(page).to_have_url(re.compile(rf"/drafts/{soft.pk}/"))
    panel = page.locator("#checks-panel")
    expect(panel).to_be_visible()
    # The failure is named; the hero banners' size and crop warnings are the quiet channel line.
    expect(panel.locator("#checks-verdict")).to_have_text("1 problem: Sharpness")
    expect(panel.locator("#checks-what")).to_have_text("fits 1 of 3 channels")
    softness = panel.locator("[data-check=softness]")
    expect(softness).to_have_class(re.compile(r"check-fail"))
    expect(softness).to_contain_text("Soft everywhere, even at fit size")
    # One summary line that names the failure; opened, the failing group is open already.
    expect(softness).to_be_hidden()
    panel.locator("#checks-details > summary").click()
    expect(softness).to_be_visible()
    # The panel sits above the decision buttons: read before deciding.
    assert panel.bounding_box()["y"] < page.locator(".decide").bounding_box()["y"]
    colour = panel.locator("[data-group=colour]")
    expect(colour.locator("[data-check='colour.icc']")).to_be_hidden()  # all pass: folded
    colour.locator("summary").click()
    expect(colour.locator("[data-check='colour.icc']")).to_be_visible()
    shot(page, "checks-panel")
    assert page.errors == []


def test_the_checks_panel_fills_in_when_the_worker_finishes(cast, batch, page):
    draft = make_draft(batch, name="late.png", data=scene_png((600, 600), seed=54))
    run_previews()
    log_in(page, "producer", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/")
    expect(page.locator("#checks-panel")).to_contain_text("Checking…")
    draft_checks_run(job_id=draft.check_job.pk)
    expect(page.locator("#checks-panel [data-check=softness]")).to_have_count(1, timeout=10_000)
    expect(page.locator("#checks-panel")).not_to_contain_text("Run the checks again")
    assert page.errors == []


def test_grid_badges_update_when_the_checks_finish_after_the_previews(cast, batch, page):
    draft = make_draft(batch, name="slow.png", data=scene_png((512, 512), seed=55))
    run_previews()
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/batches/{batch.pk}/")
    expect(page.locator(".tile .check-badge")).to_have_text("checking…")
    draft_checks_run(job_id=draft.check_job.pk)
    expect(page.locator(".tile .check-badge")).to_have_text(
        "2 problems: Hero banner 3:1 resolution, Hero banner 21:9 resolution", timeout=10_000
    )  # too small for hero and hero_wide
    assert page.errors == []
