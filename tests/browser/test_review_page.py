"""The draft page as a reviewer lives on it: the decision in view at desk and phone sizes, the
truth after Back, a conflict answer instead of a silent overwrite, no sideways scroll."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.demo.services import DEMO_PEOPLE, demo_load
from apps.drafts.models import Draft
from apps.exports.services import preset_defaults_ensure
from apps.reviews.services import review_sign_off, review_submit
from apps.rework.services import assignment_create
from tests.browser.conftest import shot, stay_after_deciding
from tests.core.builders import run_queued
from tests.drafts.builders import run_previews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORDS = {p.username: p.password for p in DEMO_PEOPLE}


@pytest.fixture
def demo():  # type: ignore[no-untyped-def]
    """The demo campaign with its previews made and its checks run, as after `bin/run`."""
    # A transactional test starts from an emptied database: the default channel presets (what
    # the placement checks measure against) are put back first, as the migration does.
    preset_defaults_ensure()
    campaign = demo_load(drafts=3)
    # The in-memory broker has no worker here; run what a worker would, as functions.
    run_previews()
    run_queued(CheckJob, draft_checks_run)
    return campaign


@pytest.fixture
def open_as(browser, live_server):  # type: ignore[no-untyped-def]
    """A logged-in page for a demo person at a viewport; every page's script errors collected."""
    contexts = []

    def open_page(username: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORDS[username])
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def _in_view(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    size = page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"], (selector, box, size)
    assert box["y"] + box["height"] <= size["height"], (selector, box, size)


# The page's width beyond the screen, and the outermost elements that stick out (for the
# failure message: which element to fix).
WIDER_THAN_THE_SCREEN = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const out = [];
  const sticksOut = (el) => el && el.getBoundingClientRect().right > width + 0.5;
  for (const el of document.body.querySelectorAll("*")) {
    if (sticksOut(el) && !sticksOut(el.parentElement)) {
      const name = (el.tagName + "#" + el.id + "." + el.className).slice(0, 80);
      out.push(name + " right=" + Math.round(el.getBoundingClientRect().right));
    }
  }
  return [document.documentElement.scrollWidth, ...out.slice(0, 5)];
}"""


def _not_covered(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing (a toast, a message) lies over the middle of the element."""
    on_top = page.evaluate(
        """(sel) => { const el = document.querySelector(sel); const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return el === hit || el.contains(hit); }""",
        selector,
    )
    assert on_top, f"{selector} is covered"


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESK), ("phone", PHONE)])
def test_the_decision_is_in_view_without_scrolling_on_the_demo_draft_page(
    demo, open_as, size, viewport
):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    stay_after_deciding("rhea")
    page = open_as("rhea", viewport)
    page.goto(f"/drafts/{draft.pk}/")
    assert page.evaluate("() => window.scrollY") == 0
    shot(page, f"review-draft-{size}")
    for selector in (
        ".decide-keep",
        ".decide-regenerate",
        ".decide-reject",
        "#review-note",
        "#current-decision",
    ):
        _in_view(page, selector)
    # The automatic checks are one line that says what matters, folded until asked for.
    summary = page.locator("#checks-details > summary")
    expect(summary).to_be_visible()
    assert summary.bounding_box()["height"] < 80
    expect(page.locator("#checks-panel [data-group=placement]")).to_be_hidden()
    _no_sideways_scroll(page)
    summary.click()
    expect(page.locator("#checks-panel [data-group=placement] > summary")).to_be_visible()
    shot(page, f"review-draft-checks-open-{size}")
    summary.click()

    # A reviewer's keep waits for sign-off: it shows, but the headline stays what counts.
    page.keyboard.press("k")
    expect(page.locator("#proposed-decision")).to_contain_text("Keep (awaiting sign-off)")
    expect(page.locator("#current-decision")).to_have_text("Undecided")
    # The toast leaves after a few seconds: hold it up while checking what it may cover.
    page.evaluate(
        "() => { const t = document.getElementById('toast'); t.hidden = false;"
        " t.textContent = 'Saved: Keep (awaiting sign-off)'; }"
    )
    for selector in (".decide-keep", ".decide-regenerate", ".decide-reject", "#current-decision"):
        _in_view(page, selector)
        _not_covered(page, selector)
    shot(page, f"review-draft-proposed-{size}")
    assert page.errors == []


def test_an_art_director_on_a_phone_sees_the_sign_off_and_the_buttons_without_scrolling(
    demo, open_as
):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    review_submit(draft=draft, reviewer=User.objects.get(username="rhea"), decision="keep")
    page = open_as("ada", PHONE)
    page.goto(f"/drafts/{draft.pk}/")
    expect(page.locator("#unread-count")).to_have_text("1")
    for selector in ("#sign-off-button", ".decide-keep", ".decide-reject", "#current-decision"):
        _in_view(page, selector)
    shot(page, "review-draft-sign-off-phone")
    page.click("#sign-off-button")
    expect(page.locator("#current-decision")).to_have_text("Keep")
    expect(page.locator(".msg-success")).to_contain_text("Signed off")
    _in_view(page, ".msg-success")
    for selector in (".decide-keep", ".decide-regenerate", ".decide-reject", "#current-decision"):
        _in_view(page, selector)
        _not_covered(page, selector)
    shot(page, "review-draft-signed-off-phone")
    assert page.errors == []


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESK), ("phone", PHONE)])
def test_the_decision_block_and_history_name_people_by_their_names(demo, open_as, size, viewport):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    review_submit(draft=draft, reviewer=User.objects.get(username="rhea"), decision="keep")
    review_sign_off(draft=draft, by=User.objects.get(username="ada"))
    page = open_as("rhea", viewport)
    page.goto(f"/drafts/{draft.pk}/")
    # The top bar says "Rhea Reviewer"; the decision beside it names her the same way.
    expect(page.locator(".who-name")).to_have_text("Rhea Reviewer")
    decider = page.locator("#current-decider")
    expect(decider).to_contain_text("by Rhea Reviewer")
    expect(decider).to_contain_text("signed off by Ada Art-Director")
    expect(page.locator("#review-history")).to_contain_text("Keep by Rhea Reviewer")
    expect(page.locator("#review-history")).to_contain_text("signed off by Ada Art-Director")
    for selector in ("#current-decision", "#current-decider", ".decide-keep"):
        _in_view(page, selector)
    _no_sideways_scroll(page)
    shot(page, f"review-draft-names-{size}")
    assert page.errors == []


def test_back_after_a_decision_shows_the_decision(demo, open_as):
    first, second = Draft.objects.filter(campaign=demo).order_by("pk")[:2]
    stay_after_deciding("ada")
    page = open_as("ada", DESK)
    response = page.goto(f"/drafts/{first.pk}/")
    assert "no-store" in response.headers["cache-control"]
    expect(page.locator("#current-decision")).to_have_text("Undecided")
    page.keyboard.press("k")
    expect(page.locator("#toast")).to_have_text("Saved: Keep")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(rf"/drafts/{second.pk}/"))
    page.go_back()
    page.wait_for_url(re.compile(rf"/drafts/{first.pk}/"))
    expect(page.locator("#current-decision")).to_have_text("Keep")
    expect(page.locator("#current-decider")).to_contain_text("by Ada Art-Director")
    assert page.errors == []


def test_two_tabs_and_two_people_get_the_conflict_answer_not_an_overwrite(demo, open_as):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    url = f"/drafts/{draft.pk}/"

    # Two tabs, one person: the second tab still shows "Undecided" when it rejects.
    stay_after_deciding("ada", "rhea")
    tab1 = open_as("ada", DESK)
    tab2 = tab1.context.new_page()
    tab2.errors = []
    tab1.goto(url)
    tab2.goto(url)
    tab1.keyboard.press("k")
    expect(tab1.locator("#current-decision")).to_have_text("Keep")
    tab2.fill("#review-note", "The label is unreadable")
    tab2.click(".decide-reject")
    expect(tab2.locator("#review-error")).to_contain_text("Not saved")
    expect(tab2.locator("#review-error")).to_contain_text("decided Keep")
    # The tab now shows the truth and the typed note is still there to decide again with.
    expect(tab2.locator("#current-decision")).to_have_text("Keep")
    expect(tab2.locator("#review-note")).to_have_value("The label is unreadable")
    shot(tab2, "review-conflict-two-tabs")
    draft.refresh_from_db()
    assert draft.decision == "keep"
    tab2.click(".decide-reject")
    expect(tab2.locator("#current-decision")).to_have_text("Reject")
    draft.refresh_from_db()
    assert draft.decision == "reject"

    # Two people: the reviewer's page is older than the art director's keep.
    reviewer = open_as("rhea", PHONE)
    reviewer.goto(url)
    tab1.reload()
    tab1.keyboard.press("k")
    expect(tab1.locator("#current-decision")).to_have_text("Keep")
    reviewer.fill("#review-note", "Hands are wrong")
    reviewer.click(".decide-regenerate")
    expect(reviewer.locator("#review-error")).to_contain_text("Ada Art-Director decided Keep")
    expect(reviewer.locator("#current-decision")).to_have_text("Keep")
    _in_view(reviewer, "#review-error")
    for selector in (".decide-keep", ".decide-regenerate", ".decide-reject"):
        _in_view(reviewer, selector)
        _not_covered(reviewer, selector)
    shot(reviewer, "review-conflict-two-people-phone")
    draft.refresh_from_db()
    assert (draft.decision, draft.proposed_decision) == ("keep", "")
    assert tab1.errors == [] and tab2.errors == [] and reviewer.errors == []


def test_no_main_page_scrolls_sideways_on_a_phone(demo, open_as, browser, live_server):
    draft, second = Draft.objects.filter(campaign=demo).order_by("pk")[:2]
    people = {u.username: u for u in User.objects.filter(username__in=["ada", "rhea", "cora"])}
    # Pages with something on them: a keep waiting for Ada's sign-off (a notification), a
    # regeneration assigned to Cora (her inbox and the assignment page).
    review_submit(draft=draft, reviewer=people["rhea"], decision="keep")
    review_submit(draft=second, reviewer=people["ada"], decision="regenerate", note="Label")
    assignment = assignment_create(
        draft=second,
        assigned_by=people["ada"],
        assignee=people["cora"],
        kind="regenerate",
        instructions="Upright can, the label reads FJELL " * 8,
        due_date=timezone.localdate() + timedelta(days=3),
    )
    pages = {
        "campaigns": "/",
        "campaign": f"/campaigns/{demo.pk}/",
        "batch": f"/batches/{draft.batch_id}/",
        "draft": f"/drafts/{draft.pk}/",
        "upload": f"/campaigns/{demo.pk}/upload/",
        "notifications": "/notifications/",
        "inbox": "/rework/",
        "compare": f"/drafts/{draft.pk}/compare/",
        "record": f"/drafts/{draft.pk}/record/",
        "sheet": f"/drafts/{draft.pk}/channels/",
        "packs": f"/campaigns/{demo.pk}/packs/",
        "not-found": "/drafts/999999/",
    }
    page = open_as("ada", PHONE)
    too_wide = {}
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("load")
        shot(page, f"phone-{name}")
        # "Log out" is reachable from every page: in the top bar, inside the screen.
        _in_view(page, ".topbar form button")
        culprits = page.evaluate(WIDER_THAN_THE_SCREEN)
        if culprits:
            too_wide[name] = culprits
    creator = open_as("cora", PHONE)
    for name, url in {
        "inbox-creator": "/rework/",
        "assignment": f"/assignments/{assignment.pk}/",
        "assign": f"/drafts/{second.pk}/assign/",
    }.items():
        creator_page = page if name == "assign" else creator
        creator_page.goto(url)
        shot(creator_page, f"phone-{name}")
        _in_view(creator_page, ".topbar form button")
        culprits = creator_page.evaluate(WIDER_THAN_THE_SCREEN)
        if culprits:
            too_wide[name] = culprits
    assert too_wide == {}
    assert page.errors == [] and creator.errors == []

    anonymous = browser.new_context(viewport=PHONE, base_url=live_server.url).new_page()
    anonymous.goto("/login/")
    _no_sideways_scroll(anonymous)
    shot(anonymous, "phone-login")
    anonymous.context.close()


def test_the_changed_pages_at_desk_size(demo, open_as):
    draft = Draft.objects.filter(campaign=demo).order_by("pk").first()
    review_submit(draft=draft, reviewer=User.objects.get(username="rhea"), decision="keep")
    page = open_as("ada", DESK)
    for name, url in {
        "campaigns": "/",
        "batch": f"/batches/{draft.batch_id}/",
        "notifications": "/notifications/",
        "assign": f"/drafts/{draft.pk}/assign/",
        "not-found": "/drafts/999999/",
    }.items():
        page.goto(url)
        _no_sideways_scroll(page)
        shot(page, f"desk-{name}")
    creator = open_as("cora", DESK)
    response = creator.goto(f"/campaigns/{demo.pk}/review-settings/")
    assert response.status == 403
    expect(creator.locator("#error-page")).to_contain_text("Go to your campaigns")
    shot(creator, "desk-not-allowed")
    # A flash message floats over the page: the viewer does not move when it appears.
    page.goto(f"/drafts/{draft.pk}/")
    before = page.locator("#stage").bounding_box()
    page.locator("#checks-details > summary").click()
    page.click(".checks-rerun button")
    expect(page.locator(".msg")).to_be_visible()
    after = page.locator("#stage").bounding_box()
    assert after == before
    shot(page, "desk-draft-flash")
    assert page.errors == []
