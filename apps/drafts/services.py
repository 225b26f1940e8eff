"""Writes for batches and drafts: intake, references and preview renditions."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.services import audit_record, campaign_refuse_if_archived
from apps.core.errors import Refusal
from apps.core.jobs import job_create, job_dispatch
from apps.core.models import JobStatus
from apps.core.storage import STORAGE_ERRORS, STORAGE_UNAVAILABLE, storage_put
from apps.core.storage_keys import original_key, reference_key
from apps.drafts.hooks import draft_added, draft_revised
from apps.drafts.models import (
    Batch,
    Decision,
    Draft,
    DraftReference,
    DraftRevision,
    PreviewJob,
    Rendition,
    SavedFilter,
)
from apps.drafts.search import search_fields
from workers.genmeta import GenerationInfo, read_embedded
from workers.imaging.containers import image_end
from workers.intake import (
    ImageFacts,
    IntakeError,
    IntakeLimits,
    inspect_image,
    sanitize_display_name,
)

logger = logging.getLogger(__name__)

IntakeStatus = Literal["added", "duplicate", "rejected", "error"]


@dataclass
class IntakeResult:
    name: str
    status: IntakeStatus
    message: str
    code: str = ""
    draft: Draft | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "code": self.code,
            "draft_id": self.draft.pk if self.draft else None,
        }


@contextmanager
def intake_refusals() -> Iterator[None]:
    """The service boundary of the intake engine: its framework-free ``IntakeError`` becomes
    the domain's ``Refusal``, with the same message and code."""
    try:
        yield
    except IntakeError as exc:
        raise Refusal(exc.message, code=exc.code) from None


def intake_limits() -> IntakeLimits:
    return IntakeLimits(
        max_bytes=settings.DRAFTROOM_MAX_UPLOAD_BYTES,
        max_pixels=settings.DRAFTROOM_MAX_PIXELS,
        max_side=settings.DRAFTROOM_MAX_SIDE,
    )


def batch_create(
    *,
    campaign: Campaign,
    name: str,
    created_by: User | None,
    note: str = "",
    source: str = "upload",
) -> Batch:
    campaign_refuse_if_archived(campaign)
    name = name.strip() or timezone.now().strftime("Batch %Y-%m-%d %H:%M")
    with transaction.atomic():
        batch = Batch.objects.create(
            campaign=campaign, name=name[:200], note=note, source=source, created_by=created_by
        )
        audit_record(
            campaign=campaign,
            actor=created_by,
            verb="batch.created",
            summary=f"Created batch “{batch.name}”",
            target=batch,
        )
    return batch


def _read_limited(upload: IO[bytes], limit: int) -> bytes | None:
    """Read at most limit bytes; None when the file is larger (it is never read whole)."""
    data = upload.read(limit + 1)
    if len(data) > limit:
        return None
    return data


def draft_intake(
    *,
    batch: Batch,
    uploaded_by: User | None,
    name: str,
    upload: IO[bytes] | bytes,
    size: int | None = None,
    sidecar: GenerationInfo | None = None,
    parent: Draft | None = None,
) -> IntakeResult:
    """Validate, store and record one file. Each file stands alone: a bad file is reported and
    never affects the others in its batch."""
    display = sanitize_display_name(name)
    if batch.campaign.is_archived:  # read-only until restored (campaign_refuse_if_archived)
        return IntakeResult(display, "error", "The campaign is archived.", code="archived")
    limits = intake_limits()
    if size is not None and size > limits.max_bytes:
        return _rejected(display, IntakeError("too_large", _too_large(limits)))
    if isinstance(upload, bytes):
        data: bytes | None = upload if len(upload) <= limits.max_bytes else None
    else:
        data = _read_limited(upload, limits.max_bytes)
    if data is None:
        return _rejected(display, IntakeError("too_large", _too_large(limits)))
    try:
        facts = inspect_image(data, limits)
    except IntakeError as exc:
        return _rejected(display, exc)
    notes = []
    end = image_end(data, facts.format)
    if end is not None and end < len(data):
        # A polyglot (an image with HTML or a zip glued on): keep only the image's own bytes.
        notes.append(f"removed {len(data) - end} bytes appended after the image")
        data = data[:end]
        facts = inspect_image(data, limits)

    campaign = batch.campaign
    existing = Draft.objects.filter(campaign=campaign, sha256=facts.sha256).first()
    if existing is not None:
        return _duplicate(display, existing)

    info = read_embedded(data)
    if sidecar is not None:
        info = sidecar.merged_with(info)
    # A metadata reader that failed never refuses a file; the uploader hears about it.
    notes.extend(info.notes)
    key = original_key(campaign_id=campaign.pk, sha256=facts.sha256, extension=facts.extension)
    try:
        storage_put(key, data, keep_existing=True)
    except STORAGE_ERRORS:
        logger.exception("storage failed while saving %s", key)
        return IntakeResult(display, "error", STORAGE_UNAVAILABLE, code="storage")
    try:
        with transaction.atomic():
            draft = _create_draft(batch, uploaded_by, display, facts, info, key, parent)
    except IntegrityError:
        # Two uploads of the same file raced; the first one won and this one is the duplicate.
        existing = Draft.objects.filter(campaign=campaign, sha256=facts.sha256).first()
        if existing is None:
            raise
        return _duplicate(display, existing)
    for url in info.references:
        if url.startswith(("http://", "https://")):
            DraftReference.objects.create(draft=draft, url=url[:1000], name=url[:255])
    return IntakeResult(display, "added", _added_message(facts, info, notes), draft=draft)


def _create_draft(
    batch: Batch,
    uploaded_by: User | None,
    display: str,
    facts: ImageFacts,
    info: GenerationInfo,
    key: str,
    parent: Draft | None,
) -> Draft:
    draft = Draft.objects.create(
        campaign=batch.campaign,
        batch=batch,
        parent=parent,
        file_key=key,
        original_name=display,
        **file_fields(facts),
        prompt=info.prompt,
        negative_prompt=info.negative_prompt,
        generator=info.generator[:100],
        model_name=info.model[:200],
        seed=info.seed if info.seed is None or abs(info.seed) < 2**63 else None,
        parameters=info.parameters,
        metadata_sources=info.sources,
        generation_passes=[dataclasses.asdict(generation_pass) for generation_pass in info.passes],
        **search_fields(
            prompt=info.prompt,
            negative_prompt=info.negative_prompt,
            model_name=info.model[:200],
            generator=info.generator[:100],
            parameters=info.parameters,
        ),
        uploaded_by=uploaded_by,
    )
    job_create(PreviewJob, draft=draft)
    draft_added(draft)
    audit_record(
        campaign=batch.campaign,
        actor=uploaded_by,
        verb="draft.uploaded",
        summary=f"Added “{display}” to {batch.name}",
        target=draft,
    )
    return draft


def file_fields(facts: ImageFacts) -> dict[str, object]:
    """The Draft columns that describe its current file (intake and revisions alike)."""
    return {
        "sha256": facts.sha256,
        "byte_size": facts.byte_size,
        "width": facts.width,
        "height": facts.height,
        "format": facts.format,
        "mode": facts.mode,
        "bit_depth": facts.bit_depth,
        "has_alpha": facts.has_alpha,
        "has_icc": facts.has_icc,
        "icc_description": facts.icc_description[:200],
        "exif_orientation": facts.exif_orientation,
    }


def _too_large(limits: IntakeLimits) -> str:
    return f"This file is larger than the {limits.max_bytes // (1024 * 1024)} MB limit."


def _rejected(display: str, exc: IntakeError) -> IntakeResult:
    return IntakeResult(display, "rejected", exc.message, code=exc.code)


def _duplicate(display: str, existing: Draft) -> IntakeResult:
    return IntakeResult(
        display,
        "duplicate",
        f"Already in this campaign as “{existing.original_name}” (batch “{existing.batch.name}”); "
        "not stored twice.",
        code="duplicate",
        draft=existing,
    )


def _added_message(facts: ImageFacts, info: GenerationInfo, notes: list[str]) -> str:
    parts = [f"{facts.format} {facts.width}×{facts.height}", *notes]
    if info.sources:
        parts.append("prompt read from " + ", ".join(info.sources))
    return "Added: " + "; ".join(parts)


def reference_add_url(*, draft: Draft, url: str, by: User | None) -> DraftReference:
    ref = DraftReference.objects.create(draft=draft, url=url, name=url[:255])
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="reference.added",
        summary=f"Reference {url}",
        target=draft,
    )
    return ref


def reference_add_file(*, draft: Draft, name: str, data: bytes, by: User | None) -> DraftReference:
    """Reference files go through the same validation as drafts (they are shown as images).
    A bad file raises Refusal with the intake's message."""
    with intake_refusals():
        facts = inspect_image(data, intake_limits())
    key = reference_key(
        campaign_id=draft.campaign_id, sha256=facts.sha256, extension=facts.extension
    )
    storage_put(key, data, keep_existing=True)
    display = sanitize_display_name(name)
    ref = DraftReference.objects.create(draft=draft, file_key=key, name=display)
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="reference.added",
        summary=f"Reference file {display}",
        target=draft,
    )
    return ref


def _read_upload(upload: IO[bytes] | bytes, size: int | None, limits: IntakeLimits) -> bytes:
    if size is not None and size > limits.max_bytes:
        raise IntakeError("too_large", _too_large(limits))
    if isinstance(upload, bytes):
        data: bytes | None = upload if len(upload) <= limits.max_bytes else None
    else:
        data = _read_limited(upload, limits.max_bytes)
    if data is None:
        raise IntakeError("too_large", _too_large(limits))
    return data


def draft_revision_add(
    *,
    draft: Draft,
    uploaded_by: User | None,
    name: str,
    upload: IO[bytes] | bytes,
    size: int | None = None,
    note: str = "",
) -> DraftRevision:
    """An edit: the retouched file becomes the draft's current file and the draft goes back
    into review (undecided). Earlier files stay as revisions. A bad file raises Refusal
    with a message for the person and changes nothing."""
    display = sanitize_display_name(name)
    limits = intake_limits()
    with intake_refusals():
        data = _read_upload(upload, size, limits)
        facts = inspect_image(data, limits)
    if facts.sha256 == draft.sha256:
        raise Refusal(
            "This is the same file as the current version: upload the retouched one.",
            code="unchanged",
        )
    other = (
        Draft.objects.filter(campaign_id=draft.campaign_id, sha256=facts.sha256)
        .exclude(pk=draft.pk)
        .first()
    )
    if other is not None:
        raise Refusal(
            f"This file is already in the campaign as “{other.original_name}”.", code="duplicate"
        )
    key = original_key(
        campaign_id=draft.campaign_id, sha256=facts.sha256, extension=facts.extension
    )
    storage_put(key, data, keep_existing=True)
    try:
        with transaction.atomic():
            revision, stale_keys = _revise(draft, uploaded_by, display, facts, key, note.strip())
            draft.refresh_from_db()
            draft_revised(draft)
    except IntegrityError:
        # Another upload of the same file won the race for the campaign's unique sha256.
        raise Refusal("This file was just added to the campaign.", code="duplicate") from None
    # Old previews belong to the old file; their keys are never reused, so delete after commit.
    transaction.on_commit(lambda: _delete_files(stale_keys))
    draft.refresh_from_db()
    return revision


def _revise(
    draft: Draft,
    uploaded_by: User | None,
    display: str,
    facts: ImageFacts,
    key: str,
    note: str,
) -> tuple[DraftRevision, list[str]]:
    locked = Draft.objects.select_for_update(no_key=True).get(pk=draft.pk)
    if not locked.revisions.exists():
        _snapshot_first_revision(locked)
    number = locked.revision + 1
    now = timezone.now()
    revision = DraftRevision.objects.create(
        draft=locked,
        number=number,
        file_key=key,
        original_name=display,
        sha256=facts.sha256,
        byte_size=facts.byte_size,
        width=facts.width,
        height=facts.height,
        format=facts.format,
        mode=facts.mode,
        note=note,
        created_by=uploaded_by,
        created_at=now,
    )
    renditions = Rendition.objects.filter(draft=locked)
    stale_keys = list(renditions.values_list("file_key", flat=True))
    renditions.delete()
    Draft.objects.filter(pk=locked.pk).update(
        file_key=key,
        **file_fields(facts),
        revision=number,
        # A new file is a new question: back into review.
        decision=Decision.UNDECIDED,
        decided_by=None,
        decided_at=None,
        proposed_decision=Decision.UNDECIDED,
        proposed_by=None,
        proposed_at=None,
        signed_off_by=None,
        signed_off_at=None,
    )
    _preview_requeue(locked, now)
    audit_record(
        campaign=locked.campaign,
        actor=uploaded_by,
        verb="draft.revised",
        summary=f"Revision {number} of “{locked.original_name}”"
        + (f" — {note[:200]}" if note else ""),
        target=locked,
        data={"revision": number, "sha256": facts.sha256},
    )
    return revision, stale_keys


def _snapshot_first_revision(draft: Draft) -> DraftRevision:
    return DraftRevision.objects.create(
        draft=draft,
        number=draft.revision,
        file_key=draft.file_key,
        original_name=draft.original_name,
        sha256=draft.sha256,
        byte_size=draft.byte_size,
        width=draft.width,
        height=draft.height,
        format=draft.format,
        mode=draft.mode,
        note="Original upload",
        created_by=draft.uploaded_by,
        created_at=draft.uploaded_at,
    )


def _preview_requeue(draft: Draft, now: datetime) -> None:
    fields = {
        "status": JobStatus.QUEUED,
        "progress": 0.0,
        "attempts": 0,
        "error": "",
        "message": "Queued",
        "output_key": "",
        "queued_at": now,
        "started_at": None,
        "finished_at": None,
        "lease_expires_at": None,
    }
    # A worker still busy with the old file loses its compare-and-swap finish to this reset.
    job, _ = PreviewJob.objects.update_or_create(draft=draft, defaults=fields)
    job_dispatch(job)


def _delete_files(keys: list[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except OSError:
            logger.warning("could not delete stale file %s", key)


# --- saved filters -----------------------------------------------------------------------------

SAVED_FILTERS_MAX = 50


def saved_filter_save(*, user: User, campaign: Campaign, name: str, query: str) -> SavedFilter:
    """Keep a search under a name; saving a name again replaces its query."""
    name, query = name.strip()[:80], query.strip()[:500]
    if not name:
        raise Refusal("Give the saved search a name.")
    if not query:
        raise Refusal("There is no search to save.")
    with transaction.atomic():
        existing = SavedFilter.objects.filter(user=user, campaign=campaign, name=name).first()
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing
        if SavedFilter.objects.filter(user=user, campaign=campaign).count() >= SAVED_FILTERS_MAX:
            raise Refusal(f"You have {SAVED_FILTERS_MAX} saved searches: delete one first.")
        return SavedFilter.objects.create(user=user, campaign=campaign, name=name, query=query)


def saved_filter_delete(*, user: User, campaign: Campaign, pk: int) -> str:
    """Delete the person's own saved search; returns its name, or "" when there was none."""
    saved = SavedFilter.objects.filter(pk=pk, user=user, campaign=campaign).first()
    if saved is None:
        return ""
    saved.delete()
    return saved.name
