"""The worker side of exports: export jobs (channel versions) and pack builds."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import timedelta
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.core.jobs import Claim, JobRun, job_running
from apps.core.models import JobStatus
from apps.core.people import person_name
from apps.core.provenance import provenance_stamp
from apps.core.storage import storage_put, storage_stream
from apps.core.storage_keys import pack_key
from apps.drafts.models import Draft
from apps.drafts.selectors import draft_rendition
from apps.exports.masters import Master, draft_provenance, master_for
from apps.exports.models import ChannelPreset, ChannelVersion, ExportJob, Pack, PackKind
from apps.exports.selectors import (
    Sheet,
    channel_sheet,
    current_versions,
    pack_draft_ids,
    planned_crops,
    presets_for_campaign,
)
from apps.exports.services.focal import focal_ensure
from apps.exports.services.packs import pack_members
from apps.exports.services.versions import export_versions_store
from apps.sharing.selectors import latest_client_verdict
from workers.focal import Box
from workers.packs import Slide, write_deck, write_pack
from workers.render import PresetSpec, RenderError, render_channel_versions


def export_run(*, job_id: int) -> Claim:
    """Render and store a draft's channel versions. Idempotent: a version already stored for
    the same master, preset spec and crop is reused, not rendered again."""
    with _export_running(job_id) as run:
        if not run.claimed:
            return run.result
        draft = Draft.objects.select_related("campaign").get(pk=run.job.draft_id)
        _export_render(run, draft, source=None)
    return run.result


def export_render_in_memory(*, draft: Draft, image: Any, by: User | None) -> ExportJob:
    """The GPU worker's "upscale and export": render every channel version from the upscaled
    image it holds in memory. The row is created running (no message); if this worker dies,
    the sweeper re-queues it and the CPU queue renders it from the stored master instead."""
    return export_render_now(
        draft=draft,
        presets=presets_for_campaign(draft.campaign),
        by=by,
        image=image,
        origin="upscaled image in memory",
        message="Rendering from the upscaled image",
    )


def export_render_now(
    *,
    draft: Draft,
    presets: Sequence[ChannelPreset],
    by: User | None,
    origin: str,
    message: str,
    image: Any = None,
) -> ExportJob:
    """Render channel versions inside a job that is already running (the GPU worker's upscale,
    a pack build): the export row is created running, so the page shows it and, if this
    worker dies, the sweeper re-queues it for the CPU queue."""
    now = timezone.now()
    job = ExportJob.objects.create(
        draft=draft,
        requested_by=by,
        spec={"preset_ids": [p.pk for p in presets], "from": origin},
        status=JobStatus.RUNNING,
        attempts=1,
        queued_at=now,
        started_at=now,
        lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        message=message,
    )
    with _export_running(job.pk, held=job) as run:
        _export_render(run, draft, source=image)
    job.refresh_from_db()
    return job


def _export_running(
    job_id: int, *, held: ExportJob | None = None
) -> AbstractContextManager[JobRun[ExportJob]]:
    """An export job's run, from the queue or from the GPU worker's memory alike."""
    return job_running(
        ExportJob,
        job_id,
        failure="Could not export: {exc}",
        expected={RenderError: "{exc}"},
        held=held,
    )


def _export_render(run: JobRun[ExportJob], draft: Draft, *, source: Any) -> None:
    job, report, timer = run.job, run.report, run.timer
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
        with timer.phase("provenance"):
            names = {p.slug: p.name for p in todo}
            stamped = [_with_provenance(draft, master, names, r) for r in results]
        # The provenance (and a few KB of content credentials) is added after the byte budget
        # was met: a file it pushed over its preset's limit is rendered once more with that
        # many bytes kept free, then stamped again.
        over = [
            (plain, done)
            for plain, done in zip(results, stamped, strict=True)
            if plain.status == "ok" and _over_limit(done, specs[done.slug])
        ]
        if over:
            with timer.phase("render"):
                again = render_channel_versions(
                    data,
                    [
                        replace(specs[done.slug], reserved_bytes=done.byte_size - plain.byte_size)
                        for plain, done in over
                    ],
                    crops,
                    focal=focal_box,
                    warnings=notes,
                )
            with timer.phase("provenance"):
                redone = {r.slug: _with_provenance(draft, master, names, r) for r in again}
            stamped = [redone.get(r.slug, r) for r in stamped]
        results = [_limit_checked(r, specs[r.slug]) for r in stamped]
        report(0.75, "Storing", force=True)
        with timer.phase("store"):
            outcome.update(
                export_versions_store(draft=draft, master=master, presets=todo, results=results)
            )
    ExportJob.objects.filter(pk=job.pk).update(report=outcome)
    job.report = outcome
    run.finish(output_key=master.sha256, message=_summary(outcome))


def _over_limit(result: Any, spec: PresetSpec) -> bool:
    return bool(spec.max_bytes and result.data is not None and result.byte_size > spec.max_bytes)


def _limit_checked(result: Any, spec: PresetSpec) -> Any:
    """A stamped file still over its limit says so, as an unstamped one would."""
    if result.status != "ok" or not _over_limit(result, spec):
        return result
    note = (
        f"Over the {spec.max_bytes:,} byte limit with its provenance ({result.byte_size:,} bytes)."
    )
    return replace(result, status="over_max_bytes", warnings=(*result.warnings, note))


def _with_provenance(draft: Draft, master: Master, names: dict[str, str], result: Any) -> Any:
    """The rendered file with the record's provenance inside (XMP, C2PA when configured)."""
    if result.data is None:
        return result
    provenance = draft_provenance(draft, master).with_channel(
        channel=result.slug,
        channel_name=names.get(result.slug, result.slug),
        crop=(result.crop.x, result.crop.y, result.crop.width, result.crop.height),
        size=(result.width, result.height),
    )
    return replace(result, data=provenance_stamp(result.data, result.format, provenance))


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
            spec_hash=preset.version_hash(),
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


def pack_run(*, job_id: int) -> Claim:
    """Build the pack and hand it to storage as it is written: a zip goes straight into a
    multipart upload on S3 (a part file on the filesystem), a deck through a temporary file.
    Neither the archive nor any member is ever held whole in memory, and nothing appears under
    the pack's key until it is complete."""
    with job_running(Pack, job_id, failure="Could not build the pack: {exc}") as run:
        if not run.claimed:
            return run.result
        pack, report, timer = run.job, run.report, run.timer
        ids = pack_draft_ids(pack) or []
        drafts = list(
            Draft.objects.filter(pk__in=ids, campaign_id=pack.campaign_id)
            .select_related("campaign", "batch", "uploaded_by", "decided_by", "signed_off_by")
            .order_by("batch_id", "id")
        )
        sheets: dict[int, Sheet] = {}
        if pack.kind != PackKind.DECK:
            with timer.phase("complete"):
                sheets = _complete_channels(pack, drafts, report)
        ext = ".pdf" if pack.kind == PackKind.DECK else ".zip"
        key = pack_key(campaign_id=pack.campaign_id, pack_id=pack.pk, ext=ext)
        if pack.kind == PackKind.DECK:
            with tempfile.TemporaryFile(prefix="draftroom-pack-") as tmp:
                with timer.phase("build"):
                    file_count = _build_deck(tmp, pack.campaign, drafts)
                report(0.9, "Storing", force=True)
                with timer.phase("store"):
                    digest, size = _file_digest(tmp)
                    tmp.seek(0)
                    stored = storage_put(key, tmp)  # a retried job replaces the file whole
        else:
            with storage_stream(key) as out:
                with timer.phase("build"):
                    # Write-only is enough: zipfile needs write() and flush(), nothing to seek.
                    file_count = _build_zip(cast(IO[bytes], out), pack, drafts, sheets, report)
                report(0.9, "Storing", force=True)
                with timer.phase("store"):
                    out.finish()  # a retried job replaces the file whole
            digest, size, stored = out.sha256, out.size, key
        Pack.objects.filter(pk=pack.pk).update(byte_size=size, sha256=digest, file_count=file_count)
        run.finish(output_key=stored, message=f"{file_count} files, ready to download")
    return run.result


def _file_digest(fh: IO[bytes]) -> tuple[str, int]:
    fh.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _complete_channels(pack: Pack, drafts: list[Draft], report: Any) -> dict[int, Sheet]:
    """Export, as part of the pack job, every target channel a draft lacks at its sheet's crop
    (from the upscaled master where there is one). What cannot be made (too small) stays
    missing and the manifest says why: a pack never drops a channel silently."""
    presets = presets_for_campaign(pack.campaign)
    sheets: dict[int, Sheet] = {}
    for index, draft in enumerate(drafts):
        sheet = channel_sheet(draft, presets)
        todo = [row.preset for row in sheet.rows if row.version is None and not row.too_small]
        if todo:
            report(0.05 * index / max(1, len(drafts)), f"Exporting {len(todo)} missing channels")
            export_render_now(
                draft=draft,
                presets=todo,
                by=pack.requested_by,
                origin=f"pack {pack.pk}",
                message="Exporting the channels the pack needs",
            )
            sheet = channel_sheet(draft, presets)
        sheets[draft.pk] = sheet
    return sheets


def _build_zip(
    tmp: IO[bytes], pack: Pack, drafts: list[Draft], sheets: dict[int, Sheet], report: Any
) -> int:
    """The one place a zip pack is assembled: members (streamed from storage) and the manifest
    written last with every member's hash."""
    members, records = pack_members(drafts, sheets=sheets, folders=pack.draft_id is None)
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
        "left_out": [item for r in records for item in r["left_out"]],
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


def _client_line(draft: Draft) -> str:
    """The latest client verdict through a share link, for the deck; "" when none."""
    answer = latest_client_verdict(draft)
    if answer is None:
        return ""
    verdict, day = answer.get_verdict_display(), f"{answer.created_at:%Y-%m-%d}"
    return f"Client: {verdict} by {answer.guest_name}, {day}"


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
            decided += f" by {person_name(draft.decided_by)}"
        if draft.decided_at:
            decided += f", {timezone.localtime(draft.decided_at):%Y-%m-%d}"
        if draft.signed_off_by is not None:
            decided += f"; signed off by {person_name(draft.signed_off_by)}"
        # Only channels that exist are listed; the missing ones are named, never implied.
        made = {v.preset.slug for v in versions}
        missing = [p.name for p in presets_for_campaign(campaign) if p.slug not in made]
        weights = f" (weights {master.weights_label[:12]})" if master.weights_label else ""
        slides.append(
            Slide(
                title=draft.original_name,
                lines=[
                    f"Decision: {decided}",
                    _client_line(draft),
                    "Channels: " + (", ".join(v.preset.name for v in versions) or "none yet"),
                    ("Missing: " + ", ".join(missing)) if missing else "",
                    f"Master: {master.label}, {master.width}×{master.height}{weights}",
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
