"""Queue the automatic checks for drafts that have none (drafts from before the checks existed),
or with --again for every draft of the chosen campaigns (after a change of thresholds)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from apps.checks.models import CheckJob
from apps.checks.services import check_job_create, check_rerun
from apps.drafts.models import Draft


class Command(BaseCommand):
    help = "Queue the automatic checks for drafts that have not been checked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, action="append", help="campaign id (repeat)")
        parser.add_argument(
            "--again", action="store_true", help="re-run drafts that were checked already"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        drafts = Draft.objects.select_related("campaign").order_by("id")
        if options["campaign"]:
            drafts = drafts.filter(campaign_id__in=options["campaign"])
        queued = 0
        for draft in drafts.iterator():
            # One transaction per draft: each job is published as soon as its row commits.
            with transaction.atomic():
                if not CheckJob.objects.filter(draft=draft).exists():
                    check_job_create(draft=draft)
                    queued += 1
                elif options["again"] and check_rerun(draft=draft, by=None):
                    queued += 1
        self.stdout.write(f"Queued the checks of {queued} draft(s).")
