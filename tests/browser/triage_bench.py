"""Triage benchmark (not a test): one reviewer decides a batch with the keyboard in headless
Chromium, the way it was done before the review loop was finished ("today") and the way it
is done now ("after"), in one run, and the two are printed side by side.

- today: the person's ``stay_after_decision`` is on. Decide, wait for "Saved", press N for the
  next draft. A regenerate or reject without a note: the key (refused, the note takes the
  focus), the note, Esc, the key again.
- after: the decision opens the next undecided draft (the default). A regenerate or reject
  without a note: the key, the note, Ctrl+Enter.

Key presses leave out the note's own characters (the same notes in both flows). Page time is
the draft page's navigation to its DOMContentLoaded end (Navigation Timing): review.js is
deferred, so by then the decision buttons and keys answer; the server's share is the request
to its first byte. Wall time runs from the first draft's page to the summary page.

A throwaway SQLite database and file store (deleted afterwards), real PNGs through the real
intake, previews made, and pytest-django's live server (as the browser tests use). Run:
``bin/triage-bench [--drafts N] [--rounds N]`` or ``PYTHONPATH=$PWD .venv/bin/python -m
tests.browser.triage_bench``. Figures go to docs/performance.md ("Triage").
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A throwaway database and file store, whatever the shell points at: set before Django loads.
VAR_DIR = tempfile.mkdtemp(prefix="draftroom-triage-bench-")
os.environ["DRAFTROOM_VAR_DIR"] = VAR_DIR
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["STORAGE_BACKEND"] = "filesystem"
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
# Playwright's sync API runs an event loop in this thread; the ORM calls between page
# actions are ordinary synchronous code (as in tests/browser/conftest.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# The job lines the intake and previews log would bury the table.
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from apps.drafts.models import Batch, Draft  # noqa: E402
from apps.reviews.services import review_preferences_update  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in  # noqa: E402
from tests.drafts.builders import run_previews  # noqa: E402
from tests.factories import (  # noqa: E402
    PASSWORD,
    BatchFactory,
    CampaignFactory,
    MembershipFactory,
    UserFactory,
    make_draft,
)
from tests.images import png_bytes  # noqa: E402

# The same mix as the browser test: mostly keeps, some regenerations and rejects.
PATTERN = ("keep", "keep", "regenerate", "keep", "reject")
KEYS = {"keep": "k", "regenerate": "r", "reject": "x"}
NOTES = {
    "regenerate": "Label reads FJEL: regenerate with the can's label fixed",
    "reject": "Glass bottle: the campaign is cans only",
}
# Page time, and the server's share of it (request sent to first byte back).
PAGE_TIME_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return [nav.domContentLoadedEventEnd, nav.responseStart - nav.requestStart];
}"""


@dataclass
class Flow:
    name: str
    stay: bool
    presses: int = 0
    page_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0


def build(n_drafts: int, runs: list[str]) -> tuple[Any, list[tuple[Batch, list[Draft]]]]:
    """The reviewer and one fresh batch of ``n_drafts`` per run, in the runs' order."""
    call_command("migrate", verbosity=0)
    campaign = CampaignFactory(name="Triage bench")
    reviewer = UserFactory(username="reviewer")
    MembershipFactory(campaign=campaign, user=reviewer, role="reviewer")
    batches = []
    for r, name in enumerate(runs):
        batch = BatchFactory(campaign=campaign, name=f"Triage {r + 1} ({name})")
        drafts = [
            make_draft(
                batch,
                name=f"{name}-{r}-{i:03d}.png",
                data=png_bytes(size=(160, 120), color=(i % 256, 40 * r % 256, 90)),
            )
            for i in range(n_drafts)
        ]
        batches.append((batch, drafts))
    run_previews()
    return reviewer, batches


def triage(page: Any, flow: Flow, batch: Batch, drafts: list[Draft]) -> None:
    def press(key: str) -> None:
        page.keyboard.press(key)
        flow.presses += 1

    plan = [PATTERN[i % len(PATTERN)] for i in range(len(drafts))]
    page.goto(f"/drafts/{drafts[0].pk}/")
    start = time.perf_counter()
    for i, (draft, decision) in enumerate(zip(drafts, plan, strict=True)):
        # "load" (wait_for_url's default) comes after DOMContentLoaded: the keys answer.
        page.wait_for_url(re.compile(rf"/drafts/{draft.pk}/"))
        page_ms, server_ms = page.evaluate(PAGE_TIME_JS)
        flow.page_ms.append(float(page_ms))
        flow.server_ms.append(float(server_ms))
        press(KEYS[decision])
        if decision != "keep":
            page.locator("#review-note:focus").wait_for()
            page.keyboard.type(NOTES[decision])
            if flow.stay:
                press("Escape")
                press(KEYS[decision])
            else:
                press("Control+Enter")
        if flow.stay:
            # A person waits for "Saved" before moving on; N then opens the next draft (the
            # summary after the last one).
            page.locator("#toast", has_text="Saved:").wait_for()
            press("n")
        upcoming = (
            rf"/drafts/{drafts[i + 1].pk}/"
            if i + 1 < len(drafts)
            else rf"/batches/{batch.pk}/summary/"
        )
        page.wait_for_url(re.compile(upcoming))
    flow.wall_s += time.perf_counter() - start
    decided = Draft.objects.filter(batch=batch)
    undecided = decided.filter(decision="", proposed_decision="").count()
    if undecided:
        raise SystemExit(f"{flow.name}: {undecided} drafts left undecided; the run is not valid")


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def report(today: Flow, after: Flow, *, n: int, rounds: int) -> None:
    plan = [PATTERN[i % len(PATTERN)] for i in range(n)]
    mix = ", ".join(f"{plan.count(d)} {d}" for d in ("keep", "regenerate", "reject"))
    decisions = n * rounds
    print(
        f"Triage: {rounds} batch(es) of {n} drafts per flow ({mix}), one reviewer, "
        "headless Chromium, today and after alternating"
    )
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    rows: list[tuple[str, Callable[[Flow], float], str]] = [
        ("key presses per decision", lambda f: f.presses / decisions, "{:.2f}"),
        ("page time median (ms)", lambda f: statistics.median(f.page_ms), "{:.0f}"),
        ("page time p90 (ms)", lambda f: p90(f.page_ms), "{:.0f}"),
        ("  of which server, median (ms)", lambda f: statistics.median(f.server_ms), "{:.0f}"),
        ("wall time per batch (s)", lambda f: f.wall_s / rounds, "{:.1f}"),
        ("wall time per decision (ms)", lambda f: f.wall_s / decisions * 1000, "{:.0f}"),
    ]
    print(f"{'':30}{'today':>10}{'after':>10}{'after/today':>14}")
    for label, measure, fmt in rows:
        old, new = measure(today), measure(after)
        print(f"{label:30}{fmt.format(old):>10}{fmt.format(new):>10}{new / old:>13.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=40, help="drafts per batch (default 40)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="batches per flow, alternating (default 2)"
    )
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    from pytest_django.live_server_helper import LiveServer

    # Today and after alternate (ABBA…), so neither gains from running second on a warm
    # server or loses to a burst of load from the machine's other work.
    runs = [("today", "after") if r % 2 == 0 else ("after", "today") for r in range(args.rounds)]
    order = [name for pair in runs for name in pair]
    flows = {"today": Flow("today", stay=True), "after": Flow("after", stay=False)}
    try:
        reviewer, batches = build(args.drafts, order)
        server = LiveServer("localhost")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                context = browser.new_context(
                    viewport={"width": 1440, "height": 900}, base_url=server.url
                )
                page = context.new_page()
                log_in(page, "reviewer", PASSWORD)
                # Warm the server and the browser's cache before anything is timed.
                for _, drafts in batches:
                    page.goto(f"/drafts/{drafts[0].pk}/")
                for name, (batch, drafts) in zip(order, batches, strict=True):
                    flow = flows[name]
                    review_preferences_update(user=reviewer, stay_after_decision=flow.stay)
                    triage(page, flow, batch, drafts)
                browser.close()
        finally:
            server.stop()
        report(flows["today"], flows["after"], n=args.drafts, rounds=args.rounds)
    finally:
        shutil.rmtree(VAR_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
