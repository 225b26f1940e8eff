"""Seed a campaign for the load test: thousands of drafts and many reviewers, fast.

Rows are bulk-inserted around one real image and its renditions, so pages render exactly as
they do for uploaded drafts without spending minutes making files.
"""

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from apps.campaigns.models import Campaign, Channel, Membership, Role
from apps.core.models import JobStatus
from apps.core.storage_keys import load_seed_original_key, load_seed_rendition_key
from apps.drafts.models import Batch, Draft, PreviewJob, Rendition
from apps.drafts.search import search_fields
from workers.demo_art import render_demo_drafts
from workers.renditions import DEFAULT_SPECS, render_renditions

LOAD_CAMPAIGN = "Load test"
LOAD_PASSWORD = "load-test-password"  # noqa: S105  (throw-away load-test accounts)


class Command(BaseCommand):
    help = "Create the load-test campaign (idempotent): N drafts, M reviewers."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--drafts", type=int, default=10_000)
        parser.add_argument("--reviewers", type=int, default=50)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(name=LOAD_CAMPAIGN).first()
        if campaign and campaign.drafts.count() >= options["drafts"]:
            self.stdout.write(f"campaign {campaign.pk} ready")
            return
        with transaction.atomic():
            self._seed(options["drafts"], options["reviewers"])
        if connection.vendor == "postgresql":
            # As autovacuum would have done by the time a campaign this size is reviewed: fresh
            # statistics (or the planner guesses from an empty table) and a visibility map, so
            # counts are index-only scans.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def _seed(self, n_drafts: int, n_reviewers: int) -> None:
        user_model = get_user_model()
        campaign = Campaign.objects.create(
            name=LOAD_CAMPAIGN,
            brief="Load test campaign.",
            brand_rules=["Teal and white only."],
            target_channels=[Channel.SQUARE, Channel.HERO],
        )
        for i in range(n_reviewers):
            user, _ = user_model.objects.get_or_create(username=f"load-reviewer-{i}")
            user.set_password(LOAD_PASSWORD)
            user.save()
            Membership.objects.create(campaign=campaign, user=user, role=Role.REVIEWER)
        batch = Batch.objects.create(campaign=campaign, name="Load batch")
        art = render_demo_drafts(count=1, size=(768, 768))[0]
        original = load_seed_original_key(campaign_id=campaign.pk)
        default_storage.save(original, ContentFile(art.data))
        renditions = {r.name: r for r in render_renditions(art.data, DEFAULT_SPECS)}
        keys = {}
        for name, rendition in renditions.items():
            keys[name] = default_storage.save(
                load_seed_rendition_key(campaign_id=campaign.pk, name=name),
                ContentFile(rendition.data),
            )
        drafts = Draft.objects.bulk_create(
            [
                Draft(
                    campaign=campaign, batch=batch, file_key=original,
                    original_name=f"load-{i:05d}.png",
                    sha256=hashlib.sha256(f"load-{i}".encode()).hexdigest(),
                    byte_size=len(art.data), width=768, height=768, format="PNG", mode="RGB",
                    prompt=art.prompt, negative_prompt=art.negative_prompt, seed=art.seed,
                    generator="Automatic1111", model_name="sdxl-demo",
                    **search_fields(
                        prompt=art.prompt, negative_prompt=art.negative_prompt,
                        model_name="sdxl-demo", generator="Automatic1111", parameters={},
                    ),
                )
                for i in range(n_drafts)
            ],
            batch_size=1000,
        )  # fmt: skip
        now = timezone.now()
        Rendition.objects.bulk_create(
            [
                Rendition(
                    draft=d, name=name, file_key=keys[name], width=r.width, height=r.height,
                    content_type=r.content_type,
                )
                for d in drafts
                for name, r in renditions.items()
            ],
            batch_size=2000,
        )  # fmt: skip
        PreviewJob.objects.bulk_create(
            [
                PreviewJob(draft=d, status=JobStatus.DONE, progress=1.0, finished_at=now)
                for d in drafts
            ],
            batch_size=2000,
        )
        self.stdout.write(f"campaign {campaign.pk}: {n_drafts} drafts, {n_reviewers} reviewers")
