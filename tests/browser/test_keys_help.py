"""The "?" sheet of keyboard shortcuts on the pages people drive with keys: the draft page, the
batch grid, the sign-off queue and the compare page. Each test reads the keys the page's sheet
lists and presses the main ones, so a sheet that lists a key the page does not bind fails."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from apps.drafts.models import Draft
from apps.reviews.services import review_submit
from tests.browser import test_review_page as review_page
from tests.browser.conftest import log_in, shot, stay_after_deciding
from tests.browser.test_review_page import DESK, PHONE
from tests.drafts.builders import run_previews
from tests.factories import PASSWORD, make_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The review page's fixtures: the demo campaign, and a logged-in browser per person.
demo = review_page.demo
open_as = review_page.open_as

SHEET = "#keys-help"


def _listed_keys(page: Page) -> set[str]:
    """Every key the open sheet names, as written on its key caps."""
    caps = page.eval_on_selector_all(f"{SHEET} dt kbd", "els => els.map((k) => k.textContent)")
    return {str(cap).strip() for cap in caps}


def _focus_is_in_the_sheet(page: Page) -> bool:
    return bool(page.evaluate("document.activeElement.closest('#keys-help') !== null"))


def _fits_the_screen(page: Page) -> None:
    box = page.locator(SHEET).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"], (box, size)
    assert box["y"] + box["height"] <= size["height"], (box, size)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_question_mark_lists_the_draft_page_keys_and_k_keeps(demo, open_as):
    draft, following = Draft.objects.filter(campaign=demo).order_by("pk")[:2]
    stay_after_deciding("ada")
    page = open_as("ada", DESK)
    page.goto(f"/drafts/{draft.pk}/")
    sheet = page.locator(SHEET)
    expect(sheet).to_be_hidden()

    # In the note "?" is text, and with Ctrl it is no shortcut either.
    page.click("#review-note")
    page.keyboard.press("?")
    expect(page.locator("#review-note")).to_have_value("?")
    expect(sheet).to_be_hidden()
    page.fill("#review-note", "")
    page.keyboard.press("Escape")  # review.js: Esc leaves the note
    page.keyboard.press("Control+?")
    expect(sheet).to_be_hidden()

    page.locator("#stage").focus()
    page.keyboard.press("?")
    expect(sheet).to_be_visible()
    assert _focus_is_in_the_sheet(page)
    assert {"K", "R", "X", "Ctrl", "Enter", "N", "→", "P", "←", "Z", "0", "+", "-", "M", "O"} <= (
        _listed_keys(page)
    )
    _fits_the_screen(page)
    shot(page, "keys-help-draft-1440x900")

    # While the sheet is open the page's keys do nothing behind it.
    page.keyboard.press("k")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(page.locator("#current-decision")).not_to_have_text("Keep")
    assert page.evaluate("document.activeElement.id") == "stage"  # the focus came back

    # What the sheet lists acts: Z zooms to 100 %, K keeps, N opens the next draft.
    page.keyboard.press("z")
    expect(page.locator("#zoom-level")).not_to_have_text("fit")
    page.keyboard.press("k")
    expect(page.locator("#current-decision")).to_have_text("Keep")
    page.keyboard.press("n")
    page.wait_for_url(f"**/drafts/{following.pk}/**")
    assert page.errors == []


def test_on_a_phone_the_keys_button_opens_the_draft_page_sheet_which_scrolls_inside(demo, open_as):
    draft = Draft.objects.filter(campaign=demo).earliest("pk")
    page = open_as("rhea", PHONE)
    page.goto(f"/drafts/{draft.pk}/")
    button = page.get_by_role("button", name="Keys")
    review_page._in_view(page, ".viewer-bar .keys-open")
    button.click()
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    assert _focus_is_in_the_sheet(page)
    _fits_the_screen(page)
    shot(page, "keys-help-draft-390x844")
    # The list is longer than the screen: it scrolls inside the dialog, the close button stays.
    sheet.locator(".keys-group").last.scroll_into_view_if_needed()
    expect(sheet.get_by_role("button", name="Close")).to_be_in_viewport()
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('keys-open')")
    assert page.errors == []


def test_the_grid_sheet_lists_x_and_x_selects_the_focused_tile(demo, open_as):
    batch = Draft.objects.filter(campaign=demo).earliest("pk").batch
    page = open_as("rhea", {"width": 1440, "height": 900})
    page.goto(f"/batches/{batch.pk}/")
    expect(page.locator(".bulk-keys")).to_be_visible()  # grid.js shows the line
    tile = page.locator(".tile").first
    tile.locator("a").first.focus()

    page.keyboard.press("?")
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    assert {"X", "Shift"} <= _listed_keys(page)
    _fits_the_screen(page)
    shot(page, "keys-help-grid-1440x900")
    page.keyboard.press("x")  # behind the sheet: nothing is selected
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(page.locator(".tile.selected")).to_have_count(0)

    page.keyboard.press("x")  # the focus is back on the tile
    expect(tile).to_have_class("tile decision-undecided selected")
    expect(page.locator("#bulk-count")).to_have_text("1 selected:")
    assert page.errors == []


def test_the_sign_off_sheet_lists_j_and_j_moves_to_the_next_row(demo, open_as):
    first, second, third = Draft.objects.filter(campaign=demo).order_by("pk")[:3]
    rhea = User.objects.get(username="rhea")
    for draft in (first, second, third):
        review_submit(draft=draft, reviewer=rhea, decision="keep")
    page = open_as("ada", DESK)
    page.goto(f"/campaigns/{demo.pk}/sign-off/")
    current = page.locator(".sign-off-row.current")
    expect(current).to_have_attribute("data-draft", str(first.pk))

    page.get_by_role("button", name="Keys").click()
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    assert {"J", "K", "S", "Space", "A", "Enter"} <= _listed_keys(page)
    page.keyboard.press("j")  # behind the sheet: the row stays
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    expect(current).to_have_attribute("data-draft", str(first.pk))

    page.keyboard.press("j")
    expect(current).to_have_attribute("data-draft", str(second.pk))
    page.keyboard.press("k")
    expect(current).to_have_attribute("data-draft", str(first.pk))
    assert page.errors == []


def test_the_compare_sheet_lists_the_modes_and_2_shows_side_by_side(page, cast: Any, batch: Any):
    parent = make_draft(batch, name="can-a.png", by=cast.creator)
    child = make_draft(batch, name="can-b.png", by=cast.creator, parent=parent)
    run_previews()
    page.set_viewport_size(DESK)
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{child.pk}/compare/?mode=wipe")
    stage = page.locator(".cmp-stage")
    expect(stage).to_have_class("cmp-stage mode-wipe")

    page.keyboard.press("?")
    sheet = page.locator(SHEET)
    expect(sheet).to_be_visible()
    assert {"1", "2", "3", "W", "S", "Z", "0", "+", "-", "[", "]"} <= _listed_keys(page)
    page.keyboard.press("?")  # "?" again closes it
    expect(sheet).to_be_hidden()

    page.keyboard.press("2")
    expect(stage).to_have_class("cmp-stage mode-side")
    page.keyboard.press("3")
    expect(stage).to_have_class("cmp-stage mode-onion")
    page.keyboard.press("1")
    expect(stage).to_have_class("cmp-stage mode-wipe")
    assert page.errors == []
