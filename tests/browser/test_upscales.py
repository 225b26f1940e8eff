"""The upscale panel, live progress and the wipe comparison in headless Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, make_draft
from tests.images import encode_png, pattern_image


@pytest.mark.django_db(transaction=True)
def test_an_art_director_queues_an_upscale_watches_it_finish_and_compares(page, cast, batch):
    draft = make_draft(batch, data=encode_png(pattern_image((160, 120))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/")
    panel = page.locator("#upscales")
    panel.scroll_into_view_if_needed()
    panel.get_by_label("Model").select_option("classical")
    panel.locator('input[name="target"][value="3"]').check()
    panel.get_by_role("button", name="Queue upscale").click()
    page.wait_for_url(f"**/drafts/{draft.pk}/**")
    job = UpscaleJob.objects.get(draft=draft)
    assert job.status == JobStatus.QUEUED
    page.locator(f"#upscale-job-{job.pk}").locator(".upscale-status").get_by_text(
        "Queued"
    ).wait_for()
    shot(page, "upscale-queued")

    upscale_run(job_id=job.pk)  # what the gpu worker does; the page polls the fragment
    card = page.locator(f"#upscale-job-{job.pk}")
    card.get_by_role("link", name="Compare at 100 %").wait_for(timeout=10_000)
    assert "480×360" in card.inner_text() and "not neural" in card.inner_text()
    card.scroll_into_view_if_needed()
    shot(page, "upscale-done-panel")

    card.get_by_role("link", name="Compare at 100 %").click()
    # The compare component opens at 100 % of the upscaled pixels, the source scaled to match
    # (tests/browser/test_compare.py covers fit, the divider and the geometry).
    expect(page.locator('[data-cmp="level"]')).to_have_text("100 %")
    result = page.locator('.cmp-pane[data-side="b"] .cmp-img')
    source = page.locator('.cmp-pane[data-side="a"] .cmp-img')
    assert round(result.bounding_box()["width"]) == 480 == round(source.bounding_box()["width"])
    page.locator('[data-cmp="wipe"]').fill("25")
    clip = page.locator('.cmp-pane[data-side="b"]').evaluate("el => el.style.clipPath")
    assert clip.startswith("inset(0px 0px 0px ")
    result.evaluate("el => el.decode()")
    shot(page, "upscale-wipe")
    assert page.errors == []
