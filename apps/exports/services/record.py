"""Writes from an asset's record: the next batch started from it."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.db import transaction

from apps.campaigns.services import audit_record
from apps.drafts.models import Batch, Draft
from apps.drafts.services import batch_create


def record_next_batch(*, draft: Draft, by: User | None) -> Batch:
    """Start the next batch from a finished asset: a new batch of the same campaign whose note
    carries the prompt, negative prompt, references and generation settings."""
    references = [ref.url or ref.name for ref in draft.references.all()]
    settings_lines = {
        "generator": draft.generator,
        "model": draft.model_name,
        "seed": draft.seed,
        "parameters": draft.parameters,
    }
    lines = [
        f"Started from the record of “{draft.original_name}” (draft {draft.pk}).",
        "",
        "Prompt:",
        draft.prompt or "(none recorded)",
    ]
    if draft.negative_prompt:
        lines += ["", "Negative prompt:", draft.negative_prompt]
    lines += ["", "Settings:", json.dumps(settings_lines, ensure_ascii=False, sort_keys=True)]
    if references:
        lines += ["", "References:", *references]
    with transaction.atomic():
        batch = batch_create(
            campaign=draft.campaign,
            name=f"Next from {draft.original_name}"[:200],
            created_by=by,
            note="\n".join(lines),
            source="record",
        )
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="record.next_batch",
            summary=f"Started “{batch.name}” from the record of “{draft.original_name}”",
            target=batch,
            data={"draft_id": draft.pk},
        )
    return batch
