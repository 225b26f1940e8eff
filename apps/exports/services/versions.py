"""Writes for channel versions: export requests, and storing rendered versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.core.jobs import job_create
from apps.core.models import ACTIVE_STATUSES
from apps.core.storage import storage_put
from apps.core.storage_keys import version_key
from apps.drafts.models import Decision, Draft
from apps.exports.masters import Master
from apps.exports.models import ChannelPreset, ChannelVersion, ExportJob
from apps.exports.selectors import presets_for_campaign
from workers.render import ExportResult


def export_queue(
    *, draft: Draft, by: User | None, presets: Sequence[ChannelPreset] | None = None
) -> ExportJob:
    """Queue the channel versions of a kept draft; an export already waiting or running for
    the draft is returned instead of a second one."""
    if draft.decision != Decision.KEEP:
        raise Refusal("Only kept drafts are exported: keep this draft first.")
    chosen = list(presets) if presets is not None else presets_for_campaign(draft.campaign)
    if not chosen:
        raise Refusal("No channel presets are active: ask a staff admin to add some.")
    with transaction.atomic():
        active = ExportJob.objects.filter(draft=draft, status__in=ACTIVE_STATUSES).first()
        if active is not None:
            return active
        job = job_create(
            ExportJob, draft=draft, requested_by=by, spec={"preset_ids": [p.pk for p in chosen]}
        )
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="export.queued",
            summary=f"Queued {len(chosen)} channel versions of “{draft.original_name}”",
            target=draft,
        )
    return job


def export_queue_kept(*, drafts: Sequence[Draft], by: User | None) -> list[ExportJob]:
    """One export job per kept draft (a batch or a whole campaign)."""
    return [export_queue(draft=d, by=by) for d in drafts if d.decision == Decision.KEEP]


def export_versions_store(
    *,
    draft: Draft,
    master: Master,
    presets: Sequence[ChannelPreset],
    results: Sequence[ExportResult],
) -> dict[str, dict[str, Any]]:
    """Store rendered results as channel versions (also for the GPU worker's "upscale and
    export", which renders from the master it holds in memory). Returns a report per slug."""
    by_slug = {p.slug: p for p in presets}
    outcome: dict[str, dict[str, Any]] = {}
    for result in results:
        preset = by_slug[result.slug]
        if result.data is None:
            outcome[result.slug] = {
                "status": result.status,
                "upscale_needed": result.upscale_needed,
                "warnings": list(result.warnings),
            }
            continue
        spec_hash = preset.version_hash()
        key = version_key(
            campaign_id=draft.campaign_id,
            master_sha256=master.sha256,
            slug=preset.slug,
            spec_hash=spec_hash,
            crop=result.crop,
            ext=result.extension,
        )
        storage_put(key, result.data, keep_existing=True)
        lookup: dict[str, Any] = {
            "draft": draft,
            "master_sha256": master.sha256,
            "spec_hash": spec_hash,
            "crop_x": result.crop.x,
            "crop_y": result.crop.y,
            "crop_width": result.crop.width,
            "crop_height": result.crop.height,
        }
        values: dict[str, Any] = {
            "preset": preset,
            "master_source": master.source,
            "file_key": key,
            "width": result.width,
            "height": result.height,
            "format": result.format,
            "content_type": result.content_type,
            "byte_size": result.byte_size,
            "sha256": result.sha256,
            "quality": result.quality,
            "status": result.status,
            "warnings": list(result.warnings),
        }
        try:
            with transaction.atomic():
                version, _ = ChannelVersion.objects.update_or_create(defaults=values, **lookup)
        except IntegrityError:  # a second delivery stored the same key a moment earlier
            version = ChannelVersion.objects.get(**lookup)
        outcome[result.slug] = {
            "status": "rendered" if result.status == "ok" else result.status,
            "version_id": version.pk,
            "warnings": list(result.warnings),
        }
    return outcome
