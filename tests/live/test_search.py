"""The grid's search on PostgreSQL: full-text search through the GIN index of migration drafts
0005 finds the same drafts as the SQLite tests (tests/drafts/test_grid_search.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.drafts.models import Draft
from apps.drafts.selectors import _matching_words, drafts_search
from tests.drafts.builders import generated

pytestmark = pytest.mark.live


@pytest.fixture
def drafts(cast, batch):
    return [
        generated(batch, "can.png", "sparkling water can on snow", seed=101, lora="fjellCan_v2"),
        generated(batch, "can2.png", "sparkling water can on snow", seed=102, lora="fjellCan_v2"),
        generated(batch, "bottle.png", "glass bottle in a fjord", seed=555),
    ]


def _names(cast, query: str) -> set[str]:
    return {d.original_name for d in drafts_search(cast.reviewer, cast.campaign, query)}


def test_postgresql_search_finds_drafts_by_prompt_words_seed_and_lora_name(cast, drafts):
    assert connection.vendor == "postgresql"
    assert _names(cast, "sparkling snow") == {"can.png", "can2.png"}
    assert _names(cast, "spark") == {"can.png", "can2.png"}
    assert _names(cast, "fjord") == {"bottle.png"}
    assert _names(cast, "seed:555") == {"bottle.png"}
    assert _names(cast, "lora:fjellcan") == {"can.png", "can2.png"}
    assert _names(cast, "lora:fjellCan_v2 seed:102") == {"can2.png"}
    assert _names(cast, "lora:bottle") == set()
    assert _names(cast, "model:sd_xl sampler:dpm watermark") == {
        "can.png",
        "can2.png",
        "bottle.png",
    }


def test_the_search_uses_the_gin_index(cast, drafts):
    # The words' own condition: with the campaign's condition beside it, three rows are
    # answered from the campaign index whatever the settings.
    qs = _matching_words(Draft.objects.all(), ["sparkling", "lorafjellcan"])
    with connection.cursor() as cursor:
        # Three rows are cheaper to scan than any index: make the planner show it can use it.
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = qs.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "draft_search_gin" in plan, plan


def test_the_migration_filled_the_document_the_index_is_built_on(cast, drafts):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'draft_search_gin'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "to_tsvector" in definition and "simple" in definition
    assert Draft.objects.filter(search_document__contains=" lorafjellcan ").count() == 2
