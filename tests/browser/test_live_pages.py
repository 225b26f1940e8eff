"""Open pages update when someone else decides (issue 13): two people in two browsers; B
decides, A's open draft page (decision and history) and A's batch grid show it within a few
seconds without a reload, and the note A was typing is kept; B signs off a row and A's open
sign-off queue drops it, keeping A's ticks and keyboard position."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from apps.campaigns.models import Role
from apps.campaigns.services import membership_set
from apps.drafts.models import Draft
from apps.reviews.selectors import decision_version
from apps.reviews.services import review_submit
from tests.browser import test_review_page as review_page
from tests.browser.conftest import shot, stay_after_deciding
from tests.browser.test_review_page import DESK, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The review page's fixtures: the demo campaign, and a logged-in browser per person.
demo = review_page.demo
open_as = review_page.open_as

# poll.js's LIVE_INTERVAL is 5 s; a few seconds more for the request and the swap.
WITHIN = 9000


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_b_decides_and_as_open_draft_page_shows_it_keeping_the_typed_note(demo, open_as):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    url = f"/drafts/{draft.pk}/"
    stay_after_deciding("ada", "rhea")
    a = open_as("rhea", DESK)
    b = open_as("ada", DESK)
    a.goto(url)
    b.goto(url)
    expect(a.locator("#current-decision")).to_have_text("Undecided")
    a.fill("#review-note", "The can's label is soft at 100 %")

    b.fill("#review-note", "Off brief: no product on the rock")
    b.click(".decide-reject")
    expect(b.locator("#current-decision")).to_have_text("Reject")

    # No reload: A's headline changes, the note stays, and the notice says what happened.
    expect(a.locator("#current-decision")).to_have_text("Reject", timeout=WITHIN)
    expect(a.locator("#current-decider")).to_contain_text("by Ada Art-Director")
    expect(a.locator("#review-note")).to_have_value("The can's label is soft at 100 %")
    # The history follows in the same answer: B's review with its note is listed.
    expect(a.locator("#review-history")).to_contain_text("Off brief: no product on the rock")
    notice = a.locator("#decision-changed")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Reject")
    expect(notice).to_contain_text("Your note is kept")
    draft.refresh_from_db()
    # The version token moved with the notice: deciding now replaces B's decision knowingly.
    expect(a.locator("#decision-version")).to_have_value(decision_version(draft))

    for size, name in ((DESK, "1440"), (PHONE, "390")):
        a.set_viewport_size(size)
        expect(notice).to_be_in_viewport()
        expect(a.locator(".decide-regenerate")).to_be_in_viewport()
        _no_sideways_scroll(a)
        shot(a, f"live-draft-changed-by-someone-else-{name}")
    a.set_viewport_size(DESK)

    a.click(".decide-regenerate")
    expect(a.locator("#review-error")).to_be_hidden()
    expect(notice).to_be_hidden()
    draft.refresh_from_db()
    assert draft.reviews.filter(reviewer__username="rhea", decision="regenerate").exists()
    assert a.errors == [] and b.errors == []


def test_b_decides_and_as_open_grid_updates_the_card_and_counts_keeping_focus(demo, open_as):
    first, second, third = Draft.objects.filter(campaign=demo).order_by("pk")[:3]
    stay_after_deciding("ada")
    a = open_as("rhea", DESK)
    b = open_as("ada", DESK)
    a.goto(f"/batches/{first.batch_id}/")
    tile = a.locator(f".tile[data-draft-id='{second.pk}']")
    expect(tile).to_have_class("tile decision-undecided")
    keep_count = a.locator(".filters .filter-keep .n")
    expect(keep_count).to_have_text("0")
    # A moves through the grid by keyboard: the third card's link has the focus.
    a.locator(f".tile[data-draft-id='{third.pk}'] a").first.focus()

    b.goto(f"/drafts/{second.pk}/")
    b.click(".decide-keep")
    expect(b.locator("#current-decision")).to_have_text("Keep")

    expect(tile).to_have_class("tile decision-keep", timeout=WITHIN)
    expect(tile.locator(".decision-badge")).to_have_text("Keep")
    expect(keep_count).to_have_text("1")
    focused = a.evaluate("document.activeElement.closest('.tile')?.dataset.draftId")
    assert focused == str(third.pk)
    _no_sideways_scroll(a)
    shot(a, "live-grid-after-someone-else-decided-1440")
    assert a.errors == [] and b.errors == []


def test_b_signs_off_a_row_and_as_open_queue_drops_it_keeping_as_ticks(demo, open_as, monkeypatch):
    first, second, third = Draft.objects.filter(campaign=demo).order_by("pk")[:3]
    rhea = User.objects.get(username="rhea")
    for draft in (first, second, third):
        review_submit(draft=draft, reviewer=rhea, decision="keep")
    # A second art director in the campaign, with her own browser.
    ida = User.objects.create_user("ida", password="draftroom-ida", first_name="Ida")
    membership_set(campaign=demo, user=ida, role=Role.ART_DIRECTOR, by=None)
    monkeypatch.setitem(review_page.PASSWORDS, "ida", "draftroom-ida")
    a = open_as("ada", DESK)
    b = open_as("ida", DESK)
    queue = f"/campaigns/{demo.pk}/sign-off/"
    a.goto(queue)
    b.goto(queue)
    expect(a.locator("h1")).to_have_text("Awaiting your sign-off (3)")
    # The keys work once the page's script marked the current row (it runs deferred).
    expect(a.locator(".sign-off-row.current")).to_have_count(1)

    # A ticks the first and the third row and moves the keyboard to the third.
    a.check(f"#pick-{first.pk}")
    a.keyboard.press("j")
    a.keyboard.press("j")
    a.locator(f"#pick-{third.pk}").check()
    expect(a.locator(".sign-off-row.current")).to_have_attribute("data-draft", str(third.pk))

    # B signs off the second row from her own queue.
    b.click(f"#sign-off-{second.pk}")
    expect(b.locator("h1")).to_have_text("Awaiting your sign-off (2)")

    # No reload: the row leaves A's queue; A's ticks and keyboard position stay.
    expect(a.locator(f".sign-off-row[data-draft='{second.pk}']")).to_have_count(0, timeout=WITHIN)
    expect(a.locator("h1")).to_have_text("Awaiting your sign-off (2)")
    expect(a.locator("#sign-off-crumb-count")).to_have_text("2")
    expect(a.locator(f"#pick-{first.pk}")).to_be_checked()
    expect(a.locator(f"#pick-{third.pk}")).to_be_checked()
    expect(a.locator(".sign-off-row.current")).to_have_attribute("data-draft", str(third.pk))
    notice = a.locator(".sign-off-changed")
    expect(notice).to_contain_text("Signed off or decided again by someone else")
    expect(notice).to_contain_text(second.original_name[:20])

    for size, name in ((DESK, "1440"), (PHONE, "390")):
        a.set_viewport_size(size)
        expect(a.locator("#sign-off-selected")).to_be_in_viewport()
        _no_sideways_scroll(a)
        shot(a, f"live-sign-off-queue-after-someone-else-signed-off-{name}")
    a.set_viewport_size(DESK)

    # A signs off what she ticked: both count, nothing is reported as changed.
    a.keyboard.press("Enter")
    expect(a.locator("#sign-off-empty")).to_be_visible()
    for draft in (first, second, third):
        draft.refresh_from_db()
        assert draft.decision == "keep" and not draft.awaiting_sign_off
    assert {first.signed_off_by_id, third.signed_off_by_id} == {User.objects.get(username="ada").pk}
    assert second.signed_off_by_id == ida.pk
    assert a.errors == [] and b.errors == []
