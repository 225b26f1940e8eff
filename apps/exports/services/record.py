"""Writes from an asset's record: the next batch started from it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from apps.campaigns.models import Campaign
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import require_membership
from apps.campaigns.services import audit_record
from apps.drafts.models import Batch, Draft
from apps.drafts.services import batch_create


def record_carried(draft: Draft) -> dict[str, Any]:
    """What a finished asset carries into the next batch, as JSON-ready data."""
    campaign = draft.campaign
    brief_points = [
        *([f"Key message: {campaign.key_message}"] if campaign.key_message else []),
        *([f"Product: {campaign.product_requirements}"] if campaign.product_requirements else []),
        *[f"Brand rule: {rule}" for rule in campaign.brand_rules or []],
    ]
    return {
        "from_draft": {"id": draft.pk, "name": draft.original_name},
        "from_campaign": {"id": campaign.pk, "name": campaign.name},
        "brief_points": brief_points,
        "prompt": draft.prompt,
        "negative_prompt": draft.negative_prompt,
        "generator": draft.generator,
        "model": draft.model_name,
        "seed": draft.seed,
        "width": draft.width,
        "height": draft.height,
        "parameters": draft.parameters,
        "references": [
            {"id": ref.pk, "name": ref.name, "url": ref.url or None, "is_file": bool(ref.file_key)}
            for ref in draft.references.all()
        ],
    }


def record_next_batch(*, draft: Draft, by: User, campaign: Campaign | None = None) -> Batch:
    """Start the next batch from a finished asset, in its campaign or any other the person may
    upload to: the batch carries the brief points, prompts, seed, model, parameters and
    references (``Batch.carried``), which its pages show and offer as generator input."""
    target = campaign or draft.campaign
    require_membership(by, target.pk, Can.UPLOAD)
    carried = record_carried(draft)
    with transaction.atomic():
        batch = batch_create(
            campaign=target,
            name=f"Next from {draft.original_name}"[:200],
            created_by=by,
            note=f"Started from the record of “{draft.original_name}” in {draft.campaign.name}.",
            source="record",
        )
        Batch.objects.filter(pk=batch.pk).update(carried=carried)
        batch.carried = carried
        for where in {draft.campaign, target}:
            audit_record(
                campaign=where,
                actor=by,
                verb="record.next_batch",
                summary=f"Started “{batch.name}” in {target.name} from the record of "
                f"“{draft.original_name}”",
                target=batch,
                data={"draft_id": draft.pk, "campaign_id": target.pk},
            )
    return batch
