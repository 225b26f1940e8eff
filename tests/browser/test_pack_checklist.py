"""A producer builds a pack of a draft too small for some channels: the checklist says what
the pack will export first and what it leaves out, and the producer chooses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.exports.models import Pack
from apps.exports.services import preset_defaults_ensure
from tests.browser.conftest import log_in, shot
from tests.exports.builders import kept_draft
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pack_checklist_lets_the_producer_build_with_what_can_be_made(cast, batch, page):
    preset_defaults_ensure()
    draft = kept_draft(batch, cast.art_director, size=(1500, 1100), name="small-can.jpg")
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "producer", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/channels/")
    page.click("#pack-button")
    expect(page.locator("h1")).to_have_text("Some channels cannot be made")
    expect(page.locator(f"#checklist-{draft.pk} .left-out").first).to_contain_text("Too small")
    expect(page.locator("#build-without-missing")).to_be_visible()
    assert not Pack.objects.exists()
    shot(page, "pack-checklist-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#build-without-missing")).to_be_in_viewport()
    shot(page, "pack-checklist-390")

    page.click("#build-without-missing")
    expect(page).to_have_url(re.compile(rf"/campaigns/{cast.campaign.pk}/packs/"))
    assert Pack.objects.get().spec["draft_ids"] == [draft.pk]
    assert not page.errors
