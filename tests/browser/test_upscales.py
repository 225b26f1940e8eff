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


@pytest.mark.django_db(transaction=True)
def test_a_custom_model_imported_by_staff_is_chosen_in_the_form_and_its_hash_shown_on_the_job(
    page, cast, batch, settings, tmp_path
):
    """Staff import a community ESRGAN checkpoint with the command; an art director picks it
    in the upscale form; the finished job names it and shows the file's SHA-256."""
    import io

    from django.core.management import call_command

    from tests.upscales.builders import requires_upscaler

    requires_upscaler()
    pytest.importorskip("spandrel")
    from tests.upscales.custom_checkpoints import write
    from workers.upscale.registry import file_sha256

    settings.UPSCALE_MODELS_DIR = tmp_path / "models"
    source = write("esrgan-old", tmp_path, fmt="safetensors", stem="4x-TeamSharp")
    digest = file_sha256(source)
    call_command(
        "upscale_models", "import-custom", "team-sharp", str(source), "--licence", "CC-BY-4.0",
        stdout=io.StringIO(),
    )  # fmt: skip
    listing = io.StringIO()
    call_command("upscale_models", "list", stdout=listing)
    assert "team-sharp" in listing.getvalue()

    draft = make_draft(batch, data=encode_png(pattern_image((48, 36))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    log_in(page, "art_director", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/drafts/{draft.pk}/")
    panel = page.locator("#upscales")
    panel.scroll_into_view_if_needed()
    model = panel.get_by_label("Model")
    assert "team-sharp (custom ESRGAN ×4)" in model.inner_text()
    model.select_option("team-sharp")
    panel.locator('input[name="target"][value="4"]').check()
    shot(page, "upscale-custom-chosen-1440")
    panel.get_by_role("button", name="Queue upscale").click()
    page.wait_for_url(f"**/drafts/{draft.pk}/**")
    job = UpscaleJob.objects.get(draft=draft)
    assert job.model_name == "team-sharp"

    upscale_run(job_id=job.pk)
    card = page.locator(f"#upscale-job-{job.pk}")
    card.get_by_role("link", name="Compare at 100 %").wait_for(timeout=20_000)
    text = card.inner_text()
    assert "192×144" in text and "team-sharp" in text and "not neural" not in text
    sha = card.locator(".mono")
    assert sha.get_attribute("title") == digest
    assert digest[:16] in sha.inner_text()
    card.scroll_into_view_if_needed()
    shot(page, "upscale-custom-done-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    card.scroll_into_view_if_needed()
    shot(page, "upscale-custom-done-390")
    assert page.errors == []
