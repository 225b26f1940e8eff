"""A reviewer selects drafts in the batch grid with the mouse and the keyboard and rejects
them together with one note (issue 13: bulk decide)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.drafts.models import Draft
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


def _no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_reviewer_selects_three_drafts_and_rejects_them_with_one_note(cast, batch, page):
    for n in range(6):
        size = 512 if n == 5 else 1024
        make_draft(batch, name=f"can-{n}.png", data=scene_png((size, size), seed=70 + n))
    run_previews()
    run_queued(CheckJob, draft_checks_run)
    ids = list(Draft.objects.order_by("id").values_list("pk", flat=True))

    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/batches/{batch.pk}/")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(6)
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_hidden()  # nothing selected yet
    # Placement warnings are one quiet line; only the 512 px draft has problems to look at.
    expect(tiles.nth(0).locator(".check-badge")).to_have_text("no problems")
    expect(tiles.nth(0).locator(".fit-chip")).to_have_text("fits 1 of 3 channels")
    expect(tiles.nth(5).locator(".check-badge")).to_contain_text("2 problems: Hero banner 3:1")

    # Mouse: the first tile, then shift-click the third for the range between.
    tiles.nth(0).locator(".tile-pick input").click()
    expect(bar).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("1 selected:")
    tiles.nth(2).locator(".tile-pick input").click(modifiers=["Shift"])
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    # Keyboard: X on the focused fourth tile selects it, X again leaves it out.
    tiles.nth(3).locator("a").first.focus()
    page.keyboard.press("x")
    expect(page.locator("#bulk-count")).to_have_text("4 selected:")
    page.keyboard.press("x")
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    expect(page.locator(".tile.selected")).to_have_count(3)

    # Reject wants a note: refused, nothing saved, and the same three come back selected.
    bar.get_by_role("button", name="Reject").click()
    expect(page.locator("#messages .msg-error")).to_contain_text("A note is required to reject")
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    expect(page.locator(".tile.decision-reject")).to_have_count(0)

    page.fill("#bulk-bar input[name=note]", "Off brief: the label is unreadable")
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # the next action is in view
    assert _no_sideways_scroll(page)
    shot(page, "grid-bulk-1440x900")

    bar.get_by_role("button", name="Reject").click()
    expect(page.locator("#messages")).to_contain_text("Saved 3 drafts: Reject.")
    for n in range(3):
        expect(tiles.nth(n)).to_have_class("tile decision-reject")
    expect(tiles.nth(3)).to_have_class("tile decision-undecided")
    expect(bar).to_be_hidden()
    shot(page, "grid-bulk-rejected-1440x900")
    decided = Draft.objects.filter(pk__in=ids[:3]).values_list("decision", flat=True)
    assert set(decided) == {"reject"}
    assert all(
        d.reviews.get().note.startswith("Off brief") for d in Draft.objects.filter(pk__in=ids[:3])
    )

    # The phone: select all on the page, the bar stays in view and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/batches/{batch.pk}/?decision=undecided")
    expect(tiles).to_have_count(3)
    page.locator("#bulk-all-box").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    assert _no_sideways_scroll(page)
    shot(page, "grid-bulk-390x844")
    page.get_by_role("button", name="Clear").click()
    expect(bar).to_be_hidden()
    expect(page.locator(".tile.selected")).to_have_count(0)
    assert page.errors == []


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_a_reviewer_keeps_what_a_search_found_across_batches(cast, batch, page, size):
    from tests.drafts.builders import generated
    from tests.factories import BatchFactory

    other = BatchFactory(campaign=cast.campaign, name="Round 2")
    for n, where in enumerate((batch, other, other)):
        generated(where, f"fjord-{n}.png", "a can on a fjord", seed=300 + n)
    generated(batch, "desert.png", "a can in the desert", seed=400)
    run_previews()

    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/campaigns/{cast.campaign.pk}/search/?q=fjord")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(3)
    page.locator("#bulk-all-box").check()
    bar = page.locator("#bulk-bar")
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    # Enter in the note never presses Keep by itself.
    page.fill("#bulk-bar input[name=note]", "Fjord set")
    page.press("#bulk-bar input[name=note]", "Enter")
    expect(page.locator("#bulk-count")).to_have_text("3 selected:")
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height
    assert _no_sideways_scroll(page)
    shot(page, f"search-bulk-{width}x{height}")

    bar.get_by_role("button", name="Keep").click()
    expect(page.locator("#messages")).to_contain_text("Saved 3 drafts")
    assert page.url.endswith("?q=fjord")
    fjords = Draft.objects.filter(original_name__startswith="fjord")
    # A reviewer's keep waits for the art director's sign-off under the default rule.
    assert all(d.reviews.get().decision == "keep" for d in fjords)
    assert Draft.objects.get(original_name="desert.png").reviews.count() == 0
    assert page.errors == []
