"""Writes for channel exports, packs and records.

Boxes a person sets (the focal rectangle, crop overrides) are stored in the original draft's
upright pixels, so they survive a new master; they are scaled to the master when rendering.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.services import audit_record
from apps.core.jobs import (
    DATABASE_GONE,
    Claim,
    PhaseTimer,
    ProgressReporter,
    job_claim,
    job_dispatch,
    job_fail,
    job_finish,
)
from apps.core.models import ACTIVE_STATUSES, JobStatus
from apps.core.storage import storage_put
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.selectors import draft_rendition
from apps.drafts.services import batch_create
from apps.exports.masters import Master, master_for
from apps.exports.models import (
    ChannelPreset,
    ChannelVersion,
    CropOverride,
    ExportJob,
    FocalArea,
    FocalSource,
    Pack,
    PackKind,
)
from apps.exports.selectors import (
    asset_record,
    current_versions,
    focal_for,
    kept_drafts,
    pack_draft_ids,
    planned_crops,
    presets_for_campaign,
)
from apps.exports.storage_keys import pack_key, version_key
from workers.focal import Box, detect_focal, fit_box_to_aspect, scale_box
from workers.packs import PackMember, Slide, safe_member_name, write_deck, write_pack
from workers.render import ExportResult, PresetSpec, RenderError, render_channel_versions

logger = logging.getLogger(__name__)

_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def _draft_size(draft: Draft) -> tuple[int, int]:
    return draft.width, draft.height


# --- focal rectangle and crops ---------------------------------------------------------------


def focal_ensure(*, draft: Draft) -> FocalArea:
    """The draft's focal rectangle, proposed from saliency the first time it is needed. The
    proposal reads the small preview (the subject is visible at thumbnail size)."""
    existing = focal_for(draft)
    if existing is not None:
        return existing
    rendition = draft_rendition(draft, "thumb") or draft_rendition(draft, "preview")
    key = rendition.file_key if rendition else draft.file_key
    with default_storage.open(key, "rb") as fh:
        data = fh.read()
    try:
        guess = detect_focal(data)
        box = scale_box(guess.box, guess.size, _draft_size(draft))
        confidence = guess.confidence
    except Exception:  # a picture saliency cannot read still gets the middle, unconfirmed
        logger.exception("focal proposal failed for draft %s", draft.pk)
        box = Box(draft.width // 3, draft.height // 3, draft.width // 3, draft.height // 3)
        confidence = 0.0
    try:
        with transaction.atomic():
            return FocalArea.objects.create(
                draft=draft,
                x=box.x,
                y=box.y,
                width=box.width,
                height=box.height,
                source=FocalSource.AUTO,
                confidence=confidence,
            )
    except IntegrityError:  # another request proposed it at the same moment
        return FocalArea.objects.get(draft=draft)


@transaction.atomic
def focal_set(*, draft: Draft, box: Box, by: User | None) -> FocalArea:
    """A person confirms or moves the subject rectangle (original draft pixels)."""
    box = box.clamped(*_draft_size(draft))
    if box.width < 2 or box.height < 2:
        raise ValidationError("Mark an area of at least 2×2 pixels.")
    focal, _ = FocalArea.objects.update_or_create(
        draft=draft,
        defaults={
            "x": box.x,
            "y": box.y,
            "width": box.width,
            "height": box.height,
            "source": FocalSource.PERSON,
            "confidence": 1.0,
            "set_by": by,
        },
    )
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="export.focal_set",
        summary=f"Set the subject of “{draft.original_name}”",
        target=draft,
        data={"box": box.as_list()},
    )
    return focal


@transaction.atomic
def crop_override_set(
    *, draft: Draft, preset: ChannelPreset, box: Box, by: User | None
) -> CropOverride:
    """A person's crop for one preset, given in the master's pixels; it is locked to the
    preset's aspect ratio and stored in the original's pixels."""
    master = master_for(draft)
    master_size = (master.width, master.height)
    fitted = fit_box_to_aspect(box, master_size, (preset.width, preset.height))
    stored = scale_box(fitted, master_size, _draft_size(draft))
    override, _ = CropOverride.objects.update_or_create(
        draft=draft,
        preset=preset,
        defaults={
            "x": stored.x,
            "y": stored.y,
            "width": stored.width,
            "height": stored.height,
            "set_by": by,
        },
    )
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="export.crop_set",
        summary=f"Set the {preset.name} crop of “{draft.original_name}”",
        target=draft,
        data={"preset": preset.slug, "box": fitted.as_list()},
    )
    return override


@transaction.atomic
def crop_override_clear(*, draft: Draft, preset: ChannelPreset, by: User | None) -> bool:
    deleted, _ = CropOverride.objects.filter(draft=draft, preset=preset).delete()
    if deleted:
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="export.crop_cleared",
            summary=f"Reset the {preset.name} crop of “{draft.original_name}” to automatic",
            target=draft,
        )
    return bool(deleted)


# --- export jobs ------------------------------------------------------------------------------


def export_queue(
    *, draft: Draft, by: User | None, presets: Sequence[ChannelPreset] | None = None
) -> ExportJob:
    """Queue the channel versions of a kept draft; an export already waiting or running for
    the draft is returned instead of a second one."""
    if draft.decision != Decision.KEEP:
        raise ValidationError("Only kept drafts are exported: keep this draft first.")
    chosen = list(presets) if presets is not None else presets_for_campaign(draft.campaign)
    if not chosen:
        raise ValidationError("No channel presets are active: ask a staff admin to add some.")
    with transaction.atomic():
        active = ExportJob.objects.filter(draft=draft, status__in=ACTIVE_STATUSES).first()
        if active is not None:
            return active
        job = ExportJob.objects.create(
            draft=draft,
            requested_by=by,
            spec={"preset_ids": [p.pk for p in chosen]},
            queued_at=timezone.now(),
            message="Queued",
        )
        job_dispatch(job)
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


def export_run(*, job_id: int) -> Claim:
    """Render and store a draft's channel versions. Idempotent: a version already stored for
    the same master, preset spec and crop is reused, not rendered again."""
    job, claim = job_claim(ExportJob, job_id)
    if job is None or not claim.claimed:
        return claim
    draft = Draft.objects.select_related("campaign").get(pk=job.draft_id)
    return _export_render(job, draft, claim, source=None)


def export_render_in_memory(*, draft: Draft, image: Any, by: User | None) -> ExportJob:
    """The GPU worker's "upscale and export": render every channel version from the upscaled
    image it holds in memory. The row is created running (no message); if this worker dies,
    the sweeper re-queues it and the CPU queue renders it from the stored master instead."""
    presets = presets_for_campaign(draft.campaign)
    now = timezone.now()
    job = ExportJob.objects.create(
        draft=draft,
        requested_by=by,
        spec={"preset_ids": [p.pk for p in presets], "from": "upscaled image in memory"},
        status=JobStatus.RUNNING,
        attempts=1,
        queued_at=now,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        message="Rendering from the upscaled image",
    )
    _export_render(job, draft, Claim(True), source=image)
    job.refresh_from_db()
    return job


def _export_render(job: ExportJob, draft: Draft, claim: Claim, *, source: Any) -> Claim:
    job_id = job.pk
    report = ProgressReporter(job)
    timer = PhaseTimer(job)
    try:
        presets = _job_presets(job)
        master = master_for(draft)
        with timer.phase("focal"):
            focal_ensure(draft=draft)
        focal_box, planned, _ = planned_crops(draft, master, presets)
        crops = {slug: box for slug, (box, _) in planned.items()}
        notes = {slug: notes for slug, (_, notes) in planned.items()}
        specs = {p.slug: p.spec() for p in presets}
        outcome = _reuse_existing(draft, master, presets, specs, crops)
        todo = [p for p in presets if p.slug not in outcome]
        report(0.1, f"{len(outcome)} reused, rendering {len(todo)}", force=True)
        if todo:
            if source is not None:
                data = source  # the upscaled image the GPU worker holds in memory
            else:
                with timer.phase("read"), default_storage.open(master.file_key, "rb") as fh:
                    data = fh.read()
            report(0.25, f"Rendering {len(todo)} channel versions", force=True)
            with timer.phase("render"):
                results = render_channel_versions(
                    data, [specs[p.slug] for p in todo], crops, focal=focal_box, warnings=notes
                )
            report(0.75, "Storing", force=True)
            with timer.phase("store"):
                outcome.update(
                    export_versions_store(draft=draft, master=master, presets=todo, results=results)
                )
    except RenderError as exc:
        job_fail(job, str(exc))
        return Claim(False)
    except DATABASE_GONE:
        raise  # job_task_run gives the row back and retries
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        job_fail(job, f"Could not export: {exc}")
        return Claim(False)
    ExportJob.objects.filter(pk=job.pk).update(report=outcome)
    job.report = outcome
    job_finish(job, output_key=master.sha256, message=_summary(outcome))
    logger.info("export job %s done timings=%s", job_id, job.timings)
    return claim


def _job_presets(job: ExportJob) -> list[ChannelPreset]:
    ids = [int(i) for i in job.spec.get("preset_ids", [])]
    by_id = {p.pk: p for p in ChannelPreset.objects.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def _reuse_existing(
    draft: Draft,
    master: Master,
    presets: Sequence[ChannelPreset],
    specs: dict[str, PresetSpec],
    crops: dict[str, Box],
) -> dict[str, dict[str, Any]]:
    outcome: dict[str, dict[str, Any]] = {}
    for preset in presets:
        crop = crops[preset.slug]
        existing = ChannelVersion.objects.filter(
            draft=draft,
            master_sha256=master.sha256,
            spec_hash=specs[preset.slug].spec_hash(),
            crop_x=crop.x,
            crop_y=crop.y,
            crop_width=crop.width,
            crop_height=crop.height,
        ).first()
        if existing is not None and default_storage.exists(existing.file_key):
            outcome[preset.slug] = {
                "status": "reused",
                "version_id": existing.pk,
                "warnings": existing.warnings,
            }
    return outcome


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
        spec_hash = preset.spec().spec_hash()
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


def _summary(outcome: dict[str, dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for item in outcome.values():
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    labels = {
        "rendered": "rendered",
        "reused": "reused",
        "too_small": "too small (needs an upscale)",
        "over_max_bytes": "over the byte limit",
    }
    parts = [f"{n} {labels.get(status, status)}" for status, n in sorted(counts.items())]
    return "; ".join(parts) or "Nothing to export"


# --- packs -----------------------------------------------------------------------------------


def pack_queue(
    *, campaign: Campaign, by: User | None, draft: Draft | None = None, kind: str = PackKind.ZIP
) -> Pack:
    """Queue a channel pack (a draft's or the campaign's kept drafts') or the campaign deck."""
    if kind not in PackKind.values:
        raise ValidationError("Unknown pack kind.")
    if draft is not None and draft.campaign_id != campaign.pk:
        raise ValidationError("That draft belongs to another campaign.")
    drafts = [draft] if draft is not None else list(kept_drafts(campaign=campaign))
    if not drafts:
        raise ValidationError("No kept drafts yet: keep at least one draft first.")
    now = timezone.now()
    with transaction.atomic():
        pack = Pack.objects.create(
            campaign=campaign,
            draft=draft,
            kind=kind,
            requested_by=by,
            spec={"draft_ids": [d.pk for d in drafts]},
            queued_at=now,
            expires_at=now + timedelta(days=settings.DRAFTROOM_PACK_EXPIRY_DAYS),
            message="Queued",
        )
        job_dispatch(pack)
        audit_record(
            campaign=campaign,
            actor=by,
            verb=f"pack.{kind}.queued",
            summary=f"Queued a {pack.get_kind_display().lower()} of "
            + (f"“{draft.original_name}”" if draft else f"{len(drafts)} kept drafts"),
            target=pack,
        )
    return pack


def pack_run(*, job_id: int) -> Claim:
    """Build the pack into a temporary file, then hand that file to storage: neither the
    archive nor any member is ever held whole in memory."""
    pack, claim = job_claim(Pack, job_id)
    if pack is None or not claim.claimed:
        return claim
    report = ProgressReporter(pack)
    timer = PhaseTimer(pack)
    ids = pack_draft_ids(pack) or []
    drafts = list(
        Draft.objects.filter(pk__in=ids, campaign_id=pack.campaign_id)
        .select_related("campaign", "batch", "uploaded_by", "decided_by")
        .order_by("batch_id", "id")
    )
    ext = ".pdf" if pack.kind == PackKind.DECK else ".zip"
    key = pack_key(campaign_id=pack.campaign_id, pack_id=pack.pk, ext=ext)
    try:
        with tempfile.TemporaryFile(prefix="draftroom-pack-") as tmp:
            with timer.phase("build"):
                if pack.kind == PackKind.DECK:
                    file_count = _build_deck(tmp, pack.campaign, drafts)
                else:
                    file_count = _build_zip(tmp, pack, drafts, report)
            report(0.9, "Storing", force=True)
            with timer.phase("store"):
                digest, size = _file_digest(tmp)
                tmp.seek(0)
                stored = storage_put(key, tmp)  # a retried job replaces the file whole
    except DATABASE_GONE:
        raise  # job_task_run gives the row back and retries
    except Exception as exc:
        logger.exception("pack %s failed", job_id)
        job_fail(pack, f"Could not build the pack: {exc}")
        return Claim(False)
    Pack.objects.filter(pk=pack.pk).update(byte_size=size, sha256=digest, file_count=file_count)
    job_finish(pack, output_key=stored, message=f"{file_count} files, ready to download")
    logger.info("pack %s done timings=%s", job_id, pack.timings)
    return claim


def _file_digest(fh: IO[bytes]) -> tuple[str, int]:
    fh.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def _storage_file(key: str) -> Iterator[IO[bytes]]:
    with default_storage.open(key, "rb") as fh:
        yield fh


def _opener(key: str) -> Any:
    return lambda: _storage_file(key)


def pack_members(drafts: Sequence[Draft], *, folders: bool) -> tuple[list[PackMember], list[Any]]:
    """The files of a pack and each draft's record. Names come from ids, preset slugs and
    formats only (never an uploaded name)."""
    members: list[PackMember] = []
    records: list[Any] = []
    for draft in drafts:
        master = master_for(draft)
        versions = current_versions(draft, master)
        record = asset_record(draft, versions=versions)
        records.append(record)
        prefix = f"draft-{draft.pk}/" if folders else ""
        source_ext = _EXTENSIONS.get(draft.format, ".bin")
        members.append(
            PackMember(
                name=f"{prefix}source/draft-{draft.pk}-original{source_ext}",
                open=_opener(draft.file_key),
                meta={"role": "source", "draft_id": draft.pk},
            )
        )
        if master.is_upscaled:
            master_ext = _EXTENSIONS.get(master.format, ".bin")
            members.append(
                PackMember(
                    name=f"{prefix}master/draft-{draft.pk}-master-{master.sha256[:12]}{master_ext}",
                    open=_opener(master.file_key),
                    meta={"role": "master", "draft_id": draft.pk, **master.as_json()},
                )
            )
        for version in versions:
            slug = safe_member_name(version.preset.slug)
            ext = _EXTENSIONS.get(version.format, "." + version.format.lower())
            members.append(
                PackMember(
                    name=f"{prefix}exports/{slug}-{version.width}x{version.height}{ext}",
                    open=_opener(version.file_key),
                    meta={
                        "role": "export",
                        "draft_id": draft.pk,
                        "preset": version.preset.slug,
                        "preset_name": version.preset.name,
                        "crop_box": version.crop.as_list(),
                        "width": version.width,
                        "height": version.height,
                        "format": version.format,
                        "expected_sha256": version.sha256,
                    },
                )
            )
    return members, records


def _build_zip(tmp: IO[bytes], pack: Pack, drafts: list[Draft], report: Any) -> int:
    members, records = pack_members(drafts, folders=pack.draft_id is None)
    campaign = pack.campaign
    manifest = {
        "generated_at": timezone.now().isoformat(),
        "generator": "Draftroom",
        "pack": {
            "id": pack.pk,
            "kind": pack.kind,
            "scope": "draft" if pack.draft_id else "campaign",
        },
        "campaign": records[0]["campaign"]
        if records
        else {"id": campaign.pk, "name": campaign.name},
        "assets": [{k: v for k, v in r.items() if k != "campaign"} for r in records],
    }
    total = len(members)
    summary = write_pack(
        tmp,
        members,
        manifest,
        progress=lambda done, _total: report(0.1 + 0.8 * done / max(1, total), "Packing"),
        total=total,
    )
    for written in summary.members:
        expected = written.meta.get("expected_sha256")
        if expected and expected != written.sha256:
            raise RuntimeError(f"{written.name} changed in storage (hash mismatch)")
    return len(summary.members) + 1


def _build_deck(tmp: IO[bytes], campaign: Campaign, drafts: list[Draft]) -> int:
    slides = []
    for draft in drafts:
        master = master_for(draft)
        versions = current_versions(draft, master)
        picture = next((v for v in versions if v.preset.slug == "presentation"), None)
        key = picture.file_key if picture else None
        if key is None:
            rendition = draft_rendition(draft, "preview")
            key = rendition.file_key if rendition else None
        image = None
        if key:
            with default_storage.open(key, "rb") as fh:
                image = fh.read()
        decided = draft.get_decision_display() or "Undecided"
        if draft.decided_by is not None:
            decided += f" by {draft.decided_by.get_username()}"
        if draft.decided_at:
            decided += f", {draft.decided_at:%Y-%m-%d}"
        channels = [v.preset.name for v in versions] or [str(c) for c in campaign.channel_labels]
        slides.append(
            Slide(
                title=draft.original_name,
                lines=[
                    f"Decision: {decided}",
                    "Channels: " + (", ".join(channels) or "none yet"),
                    f"Master: {master.label}, {master.width}×{master.height}",
                    f"Prompt: {draft.prompt}" if draft.prompt else "",
                ],
                image=image,
            )
        )
    subtitle = [
        campaign.key_message,
        f"{len(slides)} approved assets",
        f"Made {timezone.now():%Y-%m-%d} in Draftroom",
    ]
    return write_deck(tmp, title=campaign.name, subtitle=[s for s in subtitle if s], slides=slides)


def packs_expire(*, now: datetime | None = None) -> int:
    """Delete packs past their expiry: the rows now, their files once that has committed."""
    now = now or timezone.now()
    expired = list(
        Pack.objects.filter(expires_at__lt=now)
        .exclude(status__in=ACTIVE_STATUSES)
        .values_list("pk", "output_key")
    )
    if not expired:
        return 0
    keys = [key for _, key in expired if key]
    with transaction.atomic():
        Pack.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
        transaction.on_commit(lambda: _delete_files(keys))
    logger.info("expired %s packs", len(expired))
    return len(expired)


def _delete_files(keys: list[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except Exception:  # a file already gone must not stop the others
            logger.warning("could not delete expired pack file %s", key, exc_info=True)


# --- the record ------------------------------------------------------------------------------


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


def preset_defaults_ensure() -> int:
    """Create any default preset that is missing (staff edits to existing ones are kept)."""
    from apps.exports.defaults import default_preset_rows

    created = 0
    for row in default_preset_rows():
        _, made = ChannelPreset.objects.get_or_create(slug=row["slug"], defaults=row)
        created += int(made)
    return created
