"""The one fragment poller (static/js/poll.js) as pages use it: it backs off when the server
fails, stops once the fragment says the work has settled, waits while the tab is hidden, and
lets two watchers of one fragment share its requests. In live mode it keeps asking at a calm
interval whether someone else changed what the page shows.

The page's clock is Playwright's fake one, paused, so each tick happens when the test says.
"""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.exports.services import preset_defaults_ensure
from apps.upscales.models import UpscaleJob
from tests.browser.conftest import log_in, shot
from tests.checks.builders import scene_png
from tests.core.builders import run_queued
from tests.drafts.builders import run_previews
from tests.exports.builders import kept_draft
from tests.factories import PASSWORD, make_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
INTERVAL = 1500  # poll.js's interval while busy; it doubles after each failed request
LIVE_INTERVAL = 5000  # poll.js's calm interval in live mode, once nothing is busy


def _paused_clock(page) -> None:
    page.clock.install(time=START)
    page.clock.pause_at(START + datetime.timedelta(seconds=1))


def _requests_to(page, fragment: str) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda req: seen.append(req.url) if fragment in req.url else None)
    return seen


def _statuses_of(page, fragment: str) -> list[int]:
    seen: list[int] = []
    page.on("response", lambda resp: seen.append(resp.status) if fragment in resp.url else None)
    return seen


def _settle(page) -> None:
    # Give a request the page may have started the time to reach the server and come back.
    page.wait_for_timeout(400)


def _set_visibility(page, state: str) -> None:
    # Headless Chromium never hides a tab; tell the page it is hidden, as switching tabs does.
    page.evaluate(
        """state => {
          const own = { configurable: true };
          Object.defineProperty(document, "visibilityState", { ...own, value: state });
          Object.defineProperty(document, "hidden", { ...own, value: state === "hidden" });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


@pytest.fixture
def checking(cast, batch):
    """A draft whose preview is made and whose checks are still queued."""
    draft = make_draft(batch, name="late.png", data=scene_png((600, 600), seed=61))
    run_previews()
    return draft


def test_the_poller_backs_off_on_a_500_and_stops_once_the_fragment_is_settled(checking, page):
    log_in(page, "producer", PASSWORD)
    _paused_clock(page)
    panel_url = f"/drafts/{checking.pk}/checks/"
    seen = _requests_to(page, panel_url)
    failing = {"on": True}
    page.route(
        f"**{panel_url}",
        lambda route: (
            route.fulfill(status=500, body="down") if failing["on"] else route.continue_()
        ),
    )
    page.goto(f"/drafts/{checking.pk}/")
    expect(page.locator("#checks-panel")).to_contain_text("Checking…")

    page.clock.run_for(INTERVAL)
    _settle(page)
    assert len(seen) == 1
    # After one failure the next try waits twice the interval, after two four times.
    page.clock.run_for(2 * INTERVAL - 100)
    _settle(page)
    assert len(seen) == 1
    page.clock.run_for(100)
    _settle(page)
    assert len(seen) == 2
    page.clock.run_for(4 * INTERVAL - 100)
    _settle(page)
    assert len(seen) == 2

    failing["on"] = False
    run_queued(CheckJob, draft_checks_run)
    page.clock.run_for(100)
    expect(page.locator("#checks-panel [data-check=softness]")).to_have_count(1)
    assert len(seen) == 3
    # Settled: no request for as long as the page stays open.
    page.clock.run_for(120_000)
    _settle(page)
    assert len(seen) == 3
    assert page.errors == []


def test_a_login_page_from_an_expired_session_is_never_swapped_into_a_panel(checking, page):
    log_in(page, "producer", PASSWORD)
    _paused_clock(page)
    panel_url = f"/drafts/{checking.pk}/checks/"
    seen = _requests_to(page, panel_url)
    page.route(
        f"**{panel_url}",
        lambda route: route.fulfill(status=302, headers={"Location": "/login/"}),
    )
    page.goto(f"/drafts/{checking.pk}/")
    page.clock.run_for(INTERVAL)
    _settle(page)
    assert len(seen) == 1
    expect(page.locator("#checks-panel")).to_contain_text("Checking…")
    expect(page.locator("#checks-panel input[name=password]")).to_have_count(0)
    # A redirect counts as a failure: the next try waits twice the interval.
    page.clock.run_for(2 * INTERVAL - 100)
    _settle(page)
    assert len(seen) == 1


def test_the_poller_waits_while_the_tab_is_hidden_and_refreshes_when_it_shows(checking, page):
    log_in(page, "producer", PASSWORD)
    _paused_clock(page)
    seen = _requests_to(page, f"/drafts/{checking.pk}/checks/")
    page.goto(f"/drafts/{checking.pk}/")
    page.clock.run_for(INTERVAL)
    _settle(page)
    assert len(seen) == 1

    _set_visibility(page, "hidden")
    page.clock.run_for(60_000)
    _settle(page)
    assert len(seen) == 1
    run_queued(CheckJob, draft_checks_run)

    # Shown again: the panel is fetched at once, not a tick later.
    _set_visibility(page, "visible")
    expect(page.locator("#checks-panel [data-check=softness]")).to_have_count(1)
    assert len(seen) == 2
    assert page.errors == []


def test_the_grid_waiting_for_previews_and_checks_asks_once_per_tick(cast, batch, page):
    make_draft(batch, name="new.png", data=scene_png((512, 512), seed=62))
    log_in(page, "reviewer", PASSWORD)
    _paused_clock(page)
    seen = _requests_to(page, "fragment=grid")
    statuses = _statuses_of(page, "fragment=grid")
    page.goto(f"/batches/{batch.pk}/")
    expect(page.locator(".tile .placeholder")).to_have_text("Making preview…")
    expect(page.locator(".tile .check-badge")).to_have_text("checking…")

    page.clock.run_for(INTERVAL)
    _settle(page)
    assert len(seen) == 1  # grid.js and checks-grid.js share the poller

    run_previews()
    page.clock.run_for(INTERVAL)
    expect(page.locator(".tile img")).to_have_count(1)
    expect(page.locator(".tile .check-badge")).to_have_text("checking…")
    assert len(seen) == 2

    run_queued(CheckJob, draft_checks_run)
    page.clock.run_for(INTERVAL)
    expect(page.locator(".tile .check-badge")).not_to_have_text("checking…")
    assert len(seen) == 3
    shot(page, "poll-grid-settled")
    # Settled, the grid stays live: it asks at the calm interval whether anyone decided, and
    # while no one has the answer is 304, nothing to swap.
    page.clock.run_for(LIVE_INTERVAL - 100)
    _settle(page)
    assert len(seen) == 3
    page.clock.run_for(100)
    _settle(page)
    assert len(seen) == 4 and statuses[-1] == 304
    assert page.errors == []


@pytest.fixture
def settled(cast, batch):
    """A draft whose preview is made and whose checks have run: nothing on its page is busy."""
    draft = make_draft(batch, name="calm.png", data=scene_png((600, 600), seed=64))
    run_previews()
    run_queued(CheckJob, draft_checks_run)
    return draft


def test_live_mode_keeps_asking_at_the_calm_interval_and_waits_while_hidden(settled, page):
    log_in(page, "reviewer", PASSWORD)
    _paused_clock(page)
    live_url = f"/drafts/{settled.pk}/decision/"
    seen = _requests_to(page, live_url)
    statuses = _statuses_of(page, live_url)
    page.goto(f"/drafts/{settled.pk}/")

    page.clock.run_for(LIVE_INTERVAL - 100)
    _settle(page)
    assert seen == []
    for n in (1, 2, 3):
        page.clock.run_for(LIVE_INTERVAL)
        _settle(page)
        assert len(seen) == n
    # Nobody decided: each answer is 304 and the decision block is left as it is.
    assert statuses == [304, 304, 304]
    expect(page.locator("#decision-changed")).to_be_hidden()

    _set_visibility(page, "hidden")
    page.clock.run_for(60_000)
    _settle(page)
    assert len(seen) == 3
    # Shown again: asked at once, not a calm interval later.
    _set_visibility(page, "visible")
    _settle(page)
    assert len(seen) == 4
    assert page.errors == []


def test_live_mode_backs_off_from_the_calm_interval_when_the_server_fails(settled, page):
    log_in(page, "reviewer", PASSWORD)
    _paused_clock(page)
    live_url = f"/drafts/{settled.pk}/decision/"
    seen = _requests_to(page, live_url)
    failing = {"on": True}
    page.route(
        f"**{live_url}",
        lambda route: (
            route.fulfill(status=500, body="down") if failing["on"] else route.continue_()
        ),
    )
    page.goto(f"/drafts/{settled.pk}/")
    page.clock.run_for(LIVE_INTERVAL)
    _settle(page)
    assert len(seen) == 1
    page.clock.run_for(2 * LIVE_INTERVAL - 100)
    _settle(page)
    assert len(seen) == 1
    page.clock.run_for(100)
    _settle(page)
    assert len(seen) == 2
    # The failed answer was never swapped in: the decision block is still there.
    expect(page.locator("#decision-now")).to_have_count(1)
    failing["on"] = False
    page.clock.run_for(4 * LIVE_INTERVAL)
    _settle(page)
    assert len(seen) == 3
    # Answered again: back to the calm interval.
    page.clock.run_for(LIVE_INTERVAL)
    _settle(page)
    assert len(seen) == 4
    assert page.errors == []


SIZES = {"1440": (1440, 900), "390": (390, 844)}


def _shoot_both_sizes(page, name: str, *, at: str | None = None) -> None:
    """Screenshots at a desktop and a phone size, scrolled to ``at`` if given."""
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        if at:
            page.locator(at).scroll_into_view_if_needed()
        shot(page, f"poll-{name}-{label}")


def test_the_pages_that_poll_while_work_runs_at_desktop_and_phone_sizes(cast, batch, page):
    preset_defaults_ensure()
    draft = kept_draft(batch, cast.art_director, size=(1600, 1200), name="can-on-rock.jpg")
    make_draft(batch, name="new.png", data=scene_png((512, 512), seed=63))  # preview pending
    log_in(page, "art_director", PASSWORD)

    page.goto(f"/batches/{batch.pk}/")
    expect(page.locator(".tile .placeholder")).to_have_text("Making preview…")
    _shoot_both_sizes(page, "batch-grid")

    # The draft page with checks, an upscale and an export running.
    page.goto(f"/drafts/{draft.pk}/")
    panel = page.locator("#upscales")
    panel.get_by_label("Model").select_option("classical")
    panel.locator('input[name="target"][value="2"]').check()
    panel.get_by_role("button", name="Queue upscale").click()
    page.wait_for_url(f"**/drafts/{draft.pk}/**")
    page.click("#panel-export")
    page.wait_for_url(f"**/drafts/{draft.pk}/**")
    expect(page.locator("#upscales .upscale-job[data-active='1']")).to_have_count(1)
    expect(page.locator("#export-job[data-active='1']")).to_have_count(1)
    _shoot_both_sizes(page, "draft-page")
    _shoot_both_sizes(page, "draft-page-upscales", at="#upscales .upscale-jobs")
    _shoot_both_sizes(page, "draft-page-exports", at="#export-job")

    job = UpscaleJob.objects.get(draft=draft)
    page.goto(f"/upscales/{job.pk}/")
    expect(page.locator(".upscale-job[data-active='1']")).to_have_count(1)
    _shoot_both_sizes(page, "upscale-page")

    page.goto(f"/drafts/{draft.pk}/channels/")
    expect(page.locator("#export-job[data-active='1']")).to_have_count(1)
    _shoot_both_sizes(page, "sheet")

    page.goto(f"/campaigns/{cast.campaign.pk}/packs/")
    page.click("#campaign-pack")
    # 1600×1200 is too small for the hero banners: the checklist asks first.
    page.click("#build-without-missing")
    expect(page.locator(".packs-table[data-active='1']")).to_have_count(1)
    _shoot_both_sizes(page, "packs")

    assert page.errors == []
