"""Load generator for bin/load: N logged-in reviewers browse the grid, open drafts and decide.

With ``--api-share`` some of them work through the REST API instead, each with a personal
access token made on the token page: list a batch's undecided drafts, read a draft, decide.

Loopback only, bounded in time. Prints requests per second and p50/p95/p99 latencies.
The reviewers are asyncio tasks on one aiohttp event loop (aiohttp: its C HTTP parser and a
single thread keep the generator's own CPU use small on a machine it shares with the server;
50 threads of urllib measured their own GIL queueing as much as the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

import aiohttp


class Reviewer:
    def __init__(self, base: str, connector: aiohttp.BaseConnector) -> None:
        self.base = base
        # unsafe: cookies for an IP-address host (127.0.0.1) are kept too.
        self.session = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        # The page this reviewer has open, as its live check asks about it (static/js/poll.js):
        # the fragment's address and the version (ETag) last shown.
        self.live_url = ""
        self.live_etag = ""

    def look_at(self, live_url: str) -> None:
        self.live_url, self.live_etag = live_url, ""

    async def live_check(self) -> int:
        """One live check of the open page, as poll.js sends it: 304 while nothing changed."""
        url = self.live_url
        headers = {"If-None-Match": self.live_etag} if self.live_etag else {}
        async with self.session.get(self.base + url, headers=headers) as response:
            await response.read()
            if response.status == 200 and url == self.live_url:
                self.live_etag = response.headers.get("ETag", "")
            return response.status

    async def login(self, username: str, password: str) -> None:
        await self.get("/login/")
        status, _ = await self.post("/login/", {"username": username, "password": password})
        if status != 200:
            raise SystemExit(f"{username} could not log in ({status})")

    def csrf(self) -> str:
        return next(c.value for c in self.session.cookie_jar if c.key == "csrftoken")

    async def get(self, path: str) -> tuple[int, bytes]:
        try:
            return await self._get(path)
        except aiohttp.ServerDisconnectedError:
            # The server closed an idle kept-alive connection as this request went out; a
            # browser retries such a GET on a new connection, and so does this.
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, bytes]:
        async with self.session.get(self.base + path) as response:
            return response.status, await response.read()

    async def post(
        self, path: str, data: dict[str, str], json_answer: bool = False
    ) -> tuple[int, bytes]:
        headers = {"Referer": self.base + path, "X-CSRFToken": self.csrf()}
        if json_answer:
            headers["Accept"] = "application/json"
        body = {**data, "csrfmiddlewaretoken": self.csrf()}
        async with self.session.post(self.base + path, data=body, headers=headers) as response:
            return response.status, await response.read()

    async def make_token(self) -> None:
        """A read-write token through the token page, as a person would make one."""
        await self.get("/settings/tokens/")
        # A name of this run's own: the load database is kept between runs, and a person's
        # token names are unique.
        name = f"load {time.strftime('%Y-%m-%d %H:%M:%S')}"
        status, page = await self.post("/settings/tokens/", {"name": name, "scope": "write"})
        found = re.search(rb'id="token-secret"[^>]*>(drt_[^<]+)<', page)
        if status != 200 or found is None:
            said = re.search(rb'class="msg[^"]*"[^>]*>([^<]+)<', page)
            why = said.group(1).decode().strip() if said else "no token on the page"
            raise SystemExit(f"could not make an API token (HTTP {status}: {why})")
        self.token = found.group(1).decode()

    async def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self.session.request(
                method, self.base + path, json=body, headers=headers
            ) as response:
                return response.status, await response.read()
        except aiohttp.ServerDisconnectedError:
            if method != "GET":
                raise
            return await self.api(method, path, body)

    async def close(self) -> None:
        await self.session.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--password", default="load-test-password")
    parser.add_argument("--server-log", default="", help="gunicorn access log: '%%(r)s %%(L)s'")
    parser.add_argument(
        "--api-share", type=float, default=0.0, help="fraction of reviewers using the REST API"
    )
    parser.add_argument(
        "--no-live",
        dest="live",
        action="store_false",
        help="leave out open pages' live checks (one conditional request every 5 s per page)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a reviewer looks at a page before the next action (0: flat out)",
    )
    args = parser.parse_args()
    if not re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", args.url):
        raise SystemExit("loadgen only targets loopback addresses")
    latencies, errors, wall = asyncio.run(_drive(args))
    _report(args, latencies, errors, wall)


def _number(pattern: bytes, page: bytes, where: str) -> int:
    found = re.search(pattern, page)
    if found is None:
        raise SystemExit(f"{where} has no {pattern.decode()!r}: is the load database seeded?")
    return int(found.group(1))


async def _drive(args: argparse.Namespace) -> tuple[dict[str, list[float]], dict[str, int], float]:
    # One connection per reviewer, kept alive, as 50 browsers would.
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    first = Reviewer(args.url, connector)
    await first.login("load-reviewer-0", args.password)
    _, page = await first.get("/")
    campaign_id = _number(rb"/campaigns/(\d+)/", page, "the campaign list")
    _, page = await first.get(f"/campaigns/{campaign_id}/")
    batch_id = _number(rb"/batches/(\d+)/", page, "the campaign page")
    _, page = await first.get(f"/batches/{batch_id}/")
    pages = _number(rb"Page 1 of (\d+)", page, "the batch grid")
    ids = [int(x) for x in re.findall(rb'data-draft-id="(\d+)"', page)]
    low = min(ids)
    high = low + _number(rb"of (\d+)</span>", page, "the batch grid") - 1
    await first.close()

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    # Everyone logs in first (password hashing is deliberately slow); the clock starts after.
    reviewers = [Reviewer(args.url, connector) for _ in range(args.users)]
    await asyncio.gather(
        *(r.login(f"load-reviewer-{i}", args.password) for i, r in enumerate(reviewers))
    )
    api_users = round(args.users * args.api_share)
    await asyncio.gather(*(r.make_token() for r in reviewers[:api_users]))
    # Untimed warm-up: one grid page and one draft page each, so every gunicorn process has
    # compiled its templates and opened its database connection before the clock starts.
    await asyncio.gather(
        *(r.get(f"/batches/{batch_id}/?page={i % pages + 1}") for i, r in enumerate(reviewers))
    )
    await asyncio.gather(*(r.get(f"/drafts/{low + i}/") for i, r in enumerate(reviewers)))
    # The server's figures count from here too: what gunicorn logged so far was log-in and
    # warm-up.
    args.server_log_from = os.path.getsize(args.server_log) if args.server_log else 0
    deadline = time.monotonic() + args.seconds

    async def run(index: int) -> None:
        me = reviewers[index]
        rng = random.Random(index)
        if args.think:
            # People do not all click at the same instant: each starts part-way into a look.
            await asyncio.sleep(rng.uniform(0, 1.5 * args.think))
        while time.monotonic() < deadline:
            roll = rng.random()
            draft = rng.randint(low, high)
            start = time.perf_counter()
            if index < api_users:
                kind, status = await _api_action(me, rng, roll, batch_id, draft)
            elif roll < 0.5:
                kind = "grid"
                page_number = rng.randint(1, pages)
                status, _ = await me.get(f"/batches/{batch_id}/?page={page_number}")
                me.look_at(f"/batches/{batch_id}/?page={page_number}&fragment=grid")
            elif roll < 0.85:
                kind = "draft"
                status, _ = await me.get(f"/drafts/{draft}/")
                me.look_at(f"/drafts/{draft}/decision/")
            else:
                kind = "decide"
                status, body = await me.post(
                    f"/drafts/{draft}/reviews/",
                    {
                        "decision": rng.choice(["keep", "regenerate", "reject"]),
                        "note": "load test note",
                        "concept_rating": "pass",
                    },
                    json_answer=True,
                )
                if status == 200 and not json.loads(body).get("ok"):
                    status = 599
            latencies[kind].append(time.perf_counter() - start)
            if status != 200:
                errors[kind] += 1
            if args.think:
                pause = rng.uniform(0.5, 1.5) * args.think
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))

    async def watch(index: int) -> None:
        """The open page's live check every LIVE_SECONDS while the person looks at it."""
        me = reviewers[index]
        await asyncio.sleep(random.Random(1000 + index).uniform(0, LIVE_SECONDS))
        while time.monotonic() < deadline:
            if me.live_url:
                start = time.perf_counter()
                status = await me.live_check()
                latencies["live"].append(time.perf_counter() - start)
                if status not in (200, 304):
                    errors["live"] += 1
            await asyncio.sleep(min(LIVE_SECONDS, max(0.0, deadline - time.monotonic())))

    # Open pages check for others' decisions only while people look at them (think time):
    # flat out there is no "looking".
    watchers = range(api_users, args.users) if args.think and args.live else range(0)
    started = time.monotonic()
    await asyncio.gather(*(run(i) for i in range(args.users)), *(watch(i) for i in watchers))
    wall = time.monotonic() - started
    for reviewer in reviewers:
        await reviewer.close()
    await connector.close()
    return latencies, errors, wall


async def _api_action(
    me: Reviewer, rng: random.Random, roll: float, batch_id: int, draft: int
) -> tuple[str, int]:
    """The API mix: list (a page of a batch's undecided drafts), read (one draft with its
    checks, reviews and regions), decide."""
    if roll < 0.5:
        status, _ = await me.api("GET", f"/api/v1/batches/{batch_id}/drafts/?decision=undecided")
        return "api-list", status
    if roll < 0.85:
        status, _ = await me.api("GET", f"/api/v1/drafts/{draft}/")
        return "api-read", status
    decision = rng.choice(["keep", "regenerate", "reject"])
    body = {"decision": decision, "note": "load test note"}
    status, _ = await me.api("POST", f"/api/v1/drafts/{draft}/reviews/", body)
    return "api-decide", 200 if status == 201 else status


PAGE_KINDS = ("grid", "draft", "decide")
# static/js/poll.js's LIVE_INTERVAL: an open page asks whether anything changed this often.
LIVE_SECONDS = 5.0
API_KINDS = ("api-list", "api-read", "api-decide")


def _kind_of(path: str) -> str:
    if "fragment=grid" in path or path.endswith("/decision/"):
        return "live"
    if path.startswith("/api/v1/"):
        return (
            "api-list" if path.startswith("/api/v1/batches/")
            else "api-decide" if path.endswith("/reviews/")
            else "api-read" if path.startswith("/api/v1/drafts/")
            else ""
        )  # fmt: skip
    return (
        "grid" if path.startswith("/batches/")
        else "decide" if path.endswith("/reviews/")
        else "draft" if path.startswith("/drafts/")
        else ""
    )  # fmt: skip


def _report(
    args: argparse.Namespace,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    wall: float,
) -> None:
    def line(name: str, values: list[float], errs: int) -> str:
        if not values:
            return f"{name:<10} {0:>7} req"
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        return (
            f"{name:<10} {len(values):>7} req {len(values) / wall:>8.1f} req/s  "
            f"p50 {q[49] * 1000:>7.1f} ms  p95 {q[94] * 1000:>7.1f} ms  "
            f"p99 {q[98] * 1000:>7.1f} ms  errors {errs}"
        )

    print(f"{args.users} reviewers, think time ~{args.think} s, {wall:.1f} s against {args.url}")
    _table(latencies, errors, line)
    if args.server_log:
        time.sleep(0.5)  # let gunicorn flush its access log
        measured: dict[str, list[float]] = defaultdict(list)
        with open(args.server_log) as log:
            log.seek(args.server_log_from)
            for entry in log:
                request, _, seconds = entry.rstrip().rpartition(" ")
                path = request.split(" ")[1] if " " in request else ""
                kind = _kind_of(path)
                if kind:
                    measured[kind].append(float(seconds))
        print("as gunicorn measured them (request time, same run):")
        _table(measured, defaultdict(int), line)


def _table(
    latencies: dict[str, list[float]],
    errors: dict[str, int],
    line: Callable[[str, list[float], int], str],
) -> None:
    """Each kind, then the pages' and the API's p95 side by side."""
    pages: list[float] = []
    for kind in PAGE_KINDS:
        pages += latencies[kind]
        print(line(kind, latencies[kind], errors[kind]))
    print(line("pages", pages, sum(errors[k] for k in PAGE_KINDS)))
    if latencies["live"]:
        print(line("live", latencies["live"], errors["live"]))
    api: list[float] = []
    for kind in API_KINDS:
        api += latencies[kind]
    if api:
        for kind in API_KINDS:
            print(line(kind, latencies[kind], errors[kind]))
        print(line("api", api, sum(errors[k] for k in API_KINDS)))
    print(line("all", pages + api, sum(errors.values())))


if __name__ == "__main__":
    main()
