"""Find drafts fast, as a reviewer does it: search and a saved search, a stack decided in one
go, a comment thread pinned to a region with a mention. Screenshots at 1440×900 and 390×844."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.comments.models import Comment
from apps.drafts.models import Draft, SavedFilter
from apps.rework.models import Notification
from tests.browser.conftest import log_in, shot
from tests.drafts.builders import generated, run_previews
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def drafts(cast, batch):
    made = [
        generated(batch, "can.png", "sparkling water can on snow", seed=101, lora="fjellCan_v2"),
        generated(batch, "can2.png", "sparkling water can on snow", seed=102, lora="fjellCan_v2"),
        generated(batch, "can3.png", "sparkling water can on snow", seed=103, lora="fjellCan_v2"),
        generated(batch, "bottle.png", "glass bottle in a fjord", seed=555),
    ]
    run_previews()
    return made


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], sizes


def test_a_reviewer_searches_by_lora_and_saves_the_search(cast, batch, drafts, page):
    log_in(page, "reviewer", PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/batches/{batch.pk}/")
    page.fill("#search-q", "lora:fjellcan seed:102")
    page.press("#search-q", "Enter")
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".tile")).to_contain_text("can2.png")
    page.fill("#search-q", "sparkling")
    page.press("#search-q", "Enter")
    expect(page.locator(".tile")).to_have_count(3)
    page.fill("#save-search-name", "Fjell cans")
    page.click(".save-search button")
    expect(page.locator(".saved-search a", has_text="Fjell cans")).to_be_visible()
    assert SavedFilter.objects.get().query == "sparkling"
    shot(page, "find-search-1440")
    page.set_viewport_size(PHONE)
    page.goto(f"/batches/{batch.pk}/")
    page.click(".saved-search a")
    expect(page.locator(".tile")).to_have_count(3)
    shot(page, "find-search-390")
    _no_sideways_scroll(page)
    assert page.errors == []


def test_a_stack_collapses_one_prompt_and_is_decided_together(cast, batch, drafts, page):
    log_in(page, "art_director", PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/batches/{batch.pk}/")
    page.click(".stack-toggle")
    expect(page.locator(".tile")).to_have_count(2)
    expect(page.locator(".stack-count")).to_have_text("3 drafts")
    shot(page, "find-stacks-grid-1440")
    page.click(".stack-open")
    expect(page.locator(".stack-member")).to_have_count(3)
    page.set_viewport_size(PHONE)
    shot(page, "find-stack-390")
    _no_sideways_scroll(page)
    page.set_viewport_size(DESKTOP)
    page.check(f'.stack-member[data-draft-id="{drafts[2].pk}"] input[name=best]')
    page.check("input[name=rest][value=reject]")
    page.fill("input[name=note]", "Same shot, softer label")
    shot(page, "find-stack-1440")
    page.click(".stack-form button[type=submit]")
    expect(page.locator(".stack-count")).to_have_count(1)
    decisions = dict(Draft.objects.values_list("original_name", "decision"))
    assert decisions == {
        "can.png": "reject",
        "can2.png": "reject",
        "can3.png": "keep",
        "bottle.png": "",
    }
    assert page.errors == []


def test_a_comment_pinned_to_a_region_mentions_a_creator_who_replies(cast, batch, drafts, page):
    draft = drafts[0]
    log_in(page, "producer", PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/drafts/{draft.pk}/")
    page.click("#comment-pin")
    box = page.locator("#region-layer").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    expect(page.locator("#comment-pin-state")).to_have_text("Pinned to a region.")
    page.fill("#comment-body", "@creator the label is cut off here")
    page.click("#comment-form button[type=submit]")
    thread = page.locator(".thread").first
    expect(thread).to_contain_text("the label is cut off here")
    comment = Comment.objects.get()
    assert comment.has_region and 0.15 < comment.x < 0.25 and 0.35 < comment.h < 0.45
    assert Notification.objects.get(recipient=cast.creator).kind == "mention"
    page.locator("#comments").scroll_into_view_if_needed()
    shot(page, "find-comment-1440")

    page.context.clear_cookies()
    log_in(page, "creator", PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"/drafts/{draft.pk}/#comment-{comment.pk}")
    page.fill(f"#reply-{comment.pk}", "Fixed in the next version")
    page.click(f"#comment-{comment.pk} .reply-form button")
    expect(page.locator(".comment.reply")).to_contain_text("Fixed in the next version")
    page.click(f"#comment-{comment.pk} .thread-actions form:not(.reply-form) button")
    expect(page.locator(".thread.resolved")).to_have_count(1)
    page.locator("#comments").scroll_into_view_if_needed()
    shot(page, "find-comment-390")
    _no_sideways_scroll(page)
    assert page.errors == []
