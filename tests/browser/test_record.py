"""An art director starts the next campaign's batch from a finished asset's record: the prompt
arrives on the new batch's upload page and downloads as A1111 and ComfyUI input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.campaigns.models import Membership
from apps.drafts.models import Batch, Draft
from apps.drafts.services import reference_add_url
from tests.browser.conftest import log_in, shot
from tests.exports.builders import kept_draft
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = "a can of Fjell on a glacier rock, morning light"


def _widest(page, selector: str) -> float:
    """The right edge of the widest element inside ``selector`` (the page header is not ours)."""
    return page.evaluate(
        """sel => Math.max(...[...document.querySelectorAll(sel + ', ' + sel + ' *')]
            .map(e => e.getBoundingClientRect().right))""",
        selector,
    )


def test_record_to_the_next_batch_in_another_campaign_carries_prompt_and_seed(cast, batch, page):
    draft = kept_draft(batch, cast.art_director, name="glacier.png")
    Draft.objects.filter(pk=draft.pk).update(
        prompt=PROMPT,
        negative_prompt="blurry, watermark",
        generator="ComfyUI",
        model_name="sdxl_base_1.0.safetensors",
        seed=424242,
        parameters={"steps": 28, "cfg": 6.0, "sampler_name": "dpmpp_2m"},
    )
    reference_add_url(draft=draft, url="https://example.com/moodboard", by=None)
    Membership.objects.create(
        campaign=cast.other_campaign, user=cast.art_director, role="art_director"
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "art_director", PASSWORD)

    page.goto(f"/drafts/{draft.pk}/record/")
    shot(page, "record-1440")
    page.select_option("#next-batch-campaign", str(cast.other_campaign.pk))
    page.click("#next-batch")
    page.wait_for_url(f"**/campaigns/{cast.other_campaign.pk}/upload/?batch=*")
    new = Batch.objects.get(campaign=cast.other_campaign)
    expect(page.locator("#carried-prompt")).to_have_text(PROMPT)
    expect(page.locator("#carried-seed")).to_have_text("424242")
    expect(page.locator("#carried")).to_contain_text("https://example.com/moodboard")
    shot(page, "next-batch-upload-1440")

    with page.expect_download() as a1111:
        page.click("#carried-a1111")
    text = Path(a1111.value.path()).read_text()
    assert text.startswith(PROMPT + "\nNegative prompt: blurry, watermark\n")
    assert "Seed: 424242" in text and "Steps: 28" in text

    with page.expect_download() as comfy:
        page.click("#carried-comfyui")
    graph = json.loads(Path(comfy.value.path()).read_text())
    sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")
    assert sampler["inputs"]["seed"] == 424242 and sampler["inputs"]["steps"] == 28
    positive = graph[sampler["inputs"]["positive"][0]]
    assert positive["inputs"]["text"] == PROMPT

    # The new batch's own page shows what it carries too.
    page.goto(f"/batches/{new.pk}/")
    page.click("#carried summary")
    expect(page.locator("#carried-prompt")).to_have_text(PROMPT)
    shot(page, "next-batch-grid-1440")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/campaigns/{cast.other_campaign.pk}/upload/?batch={new.pk}")
    expect(page.locator("#carried-prompt")).to_be_visible()
    assert _widest(page, "#carried") <= 390
    shot(page, "next-batch-upload-390")
    page.goto(f"/drafts/{draft.pk}/record/")
    assert _widest(page, ".record") <= 390
    shot(page, "record-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/drafts/{draft.pk}/record/")
    shot(page, "record-1440")
    assert not page.errors
