"""Time the grid's search on this database: ``manage.py search_bench --drafts 20000``.

Builds a campaign of generated-looking drafts inside a transaction that is rolled back at the
end (nothing stays), then times ``drafts_search`` for a few queries: on PostgreSQL with the GIN
index of migration drafts 0005 and again with it dropped (inside the same transaction). Figures
go to docs/performance.md with this command."""

from __future__ import annotations

import random
import time
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.campaigns.models import Campaign, Membership, Role
from apps.drafts.models import Batch, Draft
from apps.drafts.search import search_fields
from apps.drafts.selectors import GridFilters, drafts_search

WORDS = [
    "sparkling",
    "water",
    "can",
    "snow",
    "mountain",
    "fjord",
    "glass",
    "bottle",
    "citrus",
    "lemon",
    "studio",
    "light",
    "soft",
    "dramatic",
    "shadow",
    "macro",
    "product",
    "shot",
    "label",
    "condensation",
    "ice",
    "splash",
    "summer",
    "winter",
    "forest",
    "moss",
    "granite",
    "sunrise",
    "dusk",
    "neon",
    "minimal",
    "pastel",
    "editorial",
    "cinematic",
    "wide",
    "close",
]
LORAS = ["fjellCan_v2", "glacierLight", "studioSoft", "mistyFjord", "labelSharp"]
QUERIES = ["sparkling", "fjord lora:glacierlight", "seed:4242", "lora:fjellcan decision:keep"]


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time drafts_search on N generated drafts (rolled back afterwards)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--drafts", type=int, default=20_000)
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                self._run(options["drafts"], options["repeat"])
                raise _Rollback
        except _Rollback:
            pass

    def _run(self, n: int, repeat: int) -> None:
        rng = random.Random(13)
        user = User.objects.create(username="search-bench")
        campaign = Campaign.objects.create(name="Search bench")
        Membership.objects.create(campaign=campaign, user=user, role=Role.REVIEWER)
        batch = Batch.objects.create(campaign=campaign, name="bench")
        rows = []
        for i in range(n):
            prompt = " ".join(rng.choice(WORDS) for _ in range(18))
            lora = rng.choice(LORAS)
            parameters = {"Sampler": "DPM++ 2M Karras", "Lora hashes": f"{lora}: abc"}
            rows.append(
                Draft(
                    campaign=campaign, batch=batch, file_key=f"bench/{i}", original_name=f"{i}.png",
                    sha256=f"{i:064x}", byte_size=1, width=1024, height=1024, format="PNG",
                    mode="RGB", prompt=prompt, negative_prompt="blurry, watermark",
                    model_name="sd_xl_base_1.0", generator="Automatic1111", seed=i * 7,
                    parameters=parameters, decision=rng.choice(["", "", "keep", "reject"]),
                    **search_fields(
                        prompt=prompt, negative_prompt="blurry, watermark",
                        model_name="sd_xl_base_1.0", generator="Automatic1111",
                        parameters=parameters,
                    ),
                )
            )  # fmt: skip
        Draft.objects.bulk_create(rows, batch_size=2000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE drafts_draft")
        self.stdout.write(f"{n} drafts on {connection.vendor}; median of {repeat} runs (ms)")
        self._time(user, campaign, repeat, "with the GIN index" if self._has_gin() else "")
        if self._has_gin():
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX draft_search_gin")
            self._time(user, campaign, repeat, "without it")

    def _has_gin(self) -> bool:
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'draft_search_gin'")
            return cursor.fetchone() is not None

    def _time(self, user: User, campaign: Campaign, repeat: int, label: str) -> None:
        for text in QUERIES:
            times = []
            found = 0
            for _ in range(repeat):
                start = time.perf_counter()
                qs = drafts_search(user, campaign, text, GridFilters())
                found = qs.count()
                page = list(qs.values_list("id", flat=True)[:60])
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            self.stdout.write(
                f"  {label:<20} {text!r:<32} {found:>6} found, first page {len(page):>2}: "
                f"{times[len(times) // 2]:7.1f} ms"
            )
