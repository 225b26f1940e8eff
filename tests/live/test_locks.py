"""Row locks on PostgreSQL never block inserts that only reference the locked row.

A plain FOR UPDATE conflicts with the FOR KEY SHARE lock that every foreign-key insert takes.
That deadlocked a reviewer's decision (draft row locked, then an audit event referencing the
campaign) against the checks worker (campaign row locked, then results referencing the draft).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.reviews.services import review_submit
from tests.factories import make_draft

pytestmark = pytest.mark.live

PLAIN_FOR_UPDATE = re.compile(r"FOR UPDATE", re.IGNORECASE)
# Rows that many others point at with foreign keys. (update_or_create's own plain FOR UPDATE on
# leaf rows such as check summaries is harmless: nothing references them.)
REFERENCED = ("campaigns_campaign", "drafts_draft", "drafts_batch", "auth_user")


def _row_locks(queries: list[dict[str, str]]) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "UPDATE" in q["sql"].split(" FOR ")[-1]
        and any(f'FROM "{table}"' in q["sql"] for table in REFERENCED)
    ]


def test_the_checks_worker_and_a_decision_lock_rows_without_blocking_foreign_keys(
    cast, batch, transactional_db
):
    assert connection.vendor == "postgresql"
    draft = make_draft(batch)
    with CaptureQueriesContext(connection) as checks:
        draft_checks_run(job_id=CheckJob.objects.get(draft=draft).pk)
    with CaptureQueriesContext(connection) as decision:
        review_submit(draft=draft, reviewer=cast.art_director, decision="keep")
    locks = _row_locks(checks.captured_queries) + _row_locks(decision.captured_queries)
    assert locks, "expected the services to lock rows"
    for sql in locks:
        assert "FOR NO KEY UPDATE" in sql, sql
        assert not PLAIN_FOR_UPDATE.search(sql.replace("FOR NO KEY UPDATE", "")), sql
