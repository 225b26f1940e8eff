"""Load generator for bin/load: N logged-in reviewers browse the grid, open drafts and decide.

Loopback only, bounded in time. Prints requests per second and p50/p95/p99 latencies.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict


class Reviewer:
    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.get("/login/")
        self.post("/login/", {"username": username, "password": password})

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> tuple[int, bytes]:
        return self._send(urllib.request.Request(self.base + path))  # noqa: S310

    def post(self, path: str, data: dict[str, str], json_answer: bool = False) -> tuple[int, bytes]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        headers = {"Referer": self.base + path, "X-CSRFToken": self.csrf()}
        if json_answer:
            headers["Accept"] = "application/json"
        return self._send(urllib.request.Request(self.base + path, body, headers))  # noqa: S310

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--password", default="load-test-password")
    parser.add_argument("--server-log", default="", help="gunicorn access log: '%%(r)s %%(L)s'")
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a reviewer looks at a page before the next action (0: flat out)",
    )
    args = parser.parse_args()
    if not re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", args.url):
        raise SystemExit("loadgen only targets loopback addresses")

    first = Reviewer(args.url, "load-reviewer-0", args.password)
    _, page = first.get("/")
    batch_id = int(re.search(rb"/campaigns/(\d+)/", page).group(1))
    _, page = first.get(f"/campaigns/{batch_id}/")
    batch_id = int(re.search(rb"/batches/(\d+)/", page).group(1))
    _, page = first.get(f"/batches/{batch_id}/")
    pages = int(re.search(rb"Page 1 of (\d+)", page).group(1))
    ids = [int(x) for x in re.findall(rb'data-draft-id="(\d+)"', page)]
    low = min(ids)
    high = low + int(re.search(rb"of (\d+)</span>", page).group(1)) - 1

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    # Everyone logs in first (password hashing is deliberately slow); the clock starts after.
    reviewers = [Reviewer(args.url, f"load-reviewer-{i}", args.password) for i in range(args.users)]
    deadline = time.monotonic() + args.seconds

    def run(index: int) -> None:
        me = reviewers[index]
        rng = random.Random(index)
        while time.monotonic() < deadline:
            roll = rng.random()
            draft = rng.randint(low, high)
            start = time.perf_counter()
            if roll < 0.5:
                kind, (status, _) = (
                    "grid",
                    me.get(f"/batches/{batch_id}/?page={rng.randint(1, pages)}"),
                )
            elif roll < 0.85:
                kind, (status, _) = "draft", me.get(f"/drafts/{draft}/")
            else:
                decision = rng.choice(["keep", "regenerate", "reject"])
                kind, (status, body) = (
                    "decide",
                    me.post(
                        f"/drafts/{draft}/reviews/",
                        {"decision": decision, "note": "load test note", "concept_rating": "pass"},
                        json_answer=True,
                    ),
                )
                if status == 200 and not json.loads(body).get("ok"):
                    status = 599
            elapsed = time.perf_counter() - start
            with lock:
                latencies[kind].append(elapsed)
                if status != 200:
                    errors[kind] += 1
            if args.think:
                time.sleep(
                    min(rng.uniform(0.5, 1.5) * args.think, max(0.0, deadline - time.monotonic()))
                )

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started

    def line(name: str, values: list[float], errs: int) -> str:
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        return (
            f"{name:<8} {len(values):>7} req {len(values) / wall:>8.1f} req/s  "
            f"p50 {q[49] * 1000:>7.1f} ms  p95 {q[94] * 1000:>7.1f} ms  "
            f"p99 {q[98] * 1000:>7.1f} ms  errors {errs}"
        )

    print(f"{args.users} reviewers, think time ~{args.think} s, {wall:.1f} s against {args.url}")
    everything: list[float] = []
    for kind in ("grid", "draft", "decide"):
        everything += latencies[kind]
        print(line(kind, latencies[kind], errors[kind]))
    print(line("all", everything, sum(errors.values())))
    if args.server_log:
        time.sleep(0.5)  # let gunicorn flush its access log
        measured: dict[str, list[float]] = defaultdict(list)
        with open(args.server_log) as log:
            for entry in log:
                request, _, seconds = entry.rstrip().rpartition(" ")
                path = request.split(" ")[1] if " " in request else ""
                kind = (
                    "grid" if path.startswith("/batches/")
                    else "decide" if path.endswith("/reviews/")
                    else "draft" if path.startswith("/drafts/")
                    else ""
                )  # fmt: skip
                if kind:
                    measured[kind].append(float(seconds))
        print("as gunicorn measured them (request time, same run):")
        server_all: list[float] = []
        for kind in ("grid", "draft", "decide"):
            server_all += measured[kind]
            print(line(kind, measured[kind], 0))
        print(line("all", server_all, 0))


if __name__ == "__main__":
    main()
