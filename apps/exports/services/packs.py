"""Writes for packs (requests and expiry) and the files a pack holds."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.core.jobs import job_create
from apps.core.models import ACTIVE_STATUSES
from apps.drafts.models import Draft
from apps.drafts.selectors import draft_edits, original_file
from apps.exports.masters import master_for
from apps.exports.models import Pack, PackKind
from apps.exports.selectors import PackChecklist, Sheet, asset_record, kept_drafts, pack_checklist
from workers.packs import PackMember

logger = logging.getLogger(__name__)


_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


class PackIncomplete(Refusal):
    """Some target channels cannot be made: the producer sees the checklist and chooses."""

    def __init__(self, checklist: list[PackChecklist]) -> None:
        count = sum(len(c.left_out) for c in checklist)
        super().__init__(
            f"{count} channel versions cannot be made; build with what can be made, or cancel.",
            code="incomplete",
        )
        self.checklist = checklist


def pack_queue(
    *,
    campaign: Campaign,
    by: User | None,
    draft: Draft | None = None,
    kind: str = PackKind.ZIP,
    without_missing: bool = False,
) -> Pack:
    """Queue a channel pack (a draft's or the campaign's kept drafts') or the campaign deck.
    A zip pack whose drafts lack channels that cannot be made (too small) is refused with the
    checklist unless ``without_missing`` says to build with what can be made; channels that
    can be made are exported by the pack job itself."""
    if kind not in PackKind.values:
        raise Refusal("Unknown pack kind.")
    if draft is not None and draft.campaign_id != campaign.pk:
        raise Refusal("That draft belongs to another campaign.")
    drafts = [draft] if draft is not None else list(kept_drafts(campaign=campaign))
    if not drafts:
        raise Refusal("No kept drafts yet: keep at least one draft first.")
    if kind == PackKind.ZIP and not without_missing:
        checklist = pack_checklist(drafts)
        if any(c.left_out for c in checklist):
            raise PackIncomplete(checklist)
    now = timezone.now()
    with transaction.atomic():
        pack = job_create(
            Pack,
            campaign=campaign,
            draft=draft,
            kind=kind,
            requested_by=by,
            spec={"draft_ids": [d.pk for d in drafts]},
            queued_at=now,
            expires_at=now + timedelta(days=settings.DRAFTROOM_PACK_EXPIRY_DAYS),
        )
        audit_record(
            campaign=campaign,
            actor=by,
            verb=f"pack.{kind}.queued",
            summary=f"Queued a {pack.get_kind_display().lower()} of "
            + (f"“{draft.original_name}”" if draft else f"{len(drafts)} kept drafts"),
            target=pack,
        )
    return pack


@contextmanager
def _storage_file(key: str) -> Iterator[IO[bytes]]:
    with default_storage.open(key, "rb") as fh:
        yield fh


def _opener(key: str) -> Any:
    return lambda: _storage_file(key)


def pack_members(
    drafts: Sequence[Draft], *, sheets: dict[int, Sheet], folders: bool
) -> tuple[list[PackMember], list[Any]]:
    """The files of a pack and each draft's record: the generated original, every edit with
    its note, bundled reference files, the master, and every channel version at the sheet's
    crop; each record lists the channels ``left_out`` and why.

    Names read as campaign, draft title, channel and size; they come from server data and the
    draft's title passed through :func:`name_part` (ASCII only), plus the draft's id, so a
    rebuild gives the same names and two drafts never share one."""
    members: list[PackMember] = []
    records: list[Any] = []
    for draft in drafts:
        master = master_for(draft)
        sheet = sheets[draft.pk]
        versions = [row.version for row in sheet.rows if row.version is not None]
        record = asset_record(draft, versions=versions)
        record["left_out"] = [
            {
                "draft_id": draft.pk,
                "preset": row.preset.slug,
                "preset_name": row.preset.name,
                "width": row.preset.width,
                "height": row.preset.height,
                "reason": row.missing_reason,
            }
            for row in sheet.rows
            if row.version is None
        ]
        records.append(record)
        stem = f"{name_part(draft.campaign.name)}_{draft_title(draft)}"
        prefix = f"{draft_title(draft)}/" if folders else ""
        original = original_file(draft)
        members.append(
            PackMember(
                name=f"{prefix}source/{stem}_original{_EXTENSIONS.get(original.format, '.bin')}",
                open=_opener(original.file_key),
                meta={
                    "role": "source",
                    "draft_id": draft.pk,
                    "expected_sha256": original.sha256,
                },
            )
        )
        for revision in draft_edits(draft):
            members.append(
                PackMember(
                    name=f"{prefix}edits/{stem}_edit-{revision.number}"
                    + _EXTENSIONS.get(revision.format, ".bin"),
                    open=_opener(revision.file_key),
                    meta={
                        "role": "edit",
                        "draft_id": draft.pk,
                        "revision": revision.number,
                        "note": revision.note,
                        "by": revision.created_by.get_username() if revision.created_by else None,
                        "at": revision.created_at.isoformat(),
                        "expected_sha256": revision.sha256,
                    },
                )
            )
        for ref in draft.references.all():
            if not ref.file_key:
                continue  # a URL reference is listed in the record, not fetched
            suffix = PurePosixPath(ref.name or ref.file_key).suffix.lower()[:8] or ".bin"
            label = name_part(PurePosixPath(ref.name).stem if ref.name else "reference")
            members.append(
                PackMember(
                    name=f"{prefix}references/{stem}_ref-{ref.pk}-{label}{suffix}",
                    open=_opener(ref.file_key),
                    meta={"role": "reference", "draft_id": draft.pk, "reference_id": ref.pk},
                )
            )
        if master.is_upscaled:
            master_ext = _EXTENSIONS.get(master.format, ".bin")
            members.append(
                PackMember(
                    name=f"{prefix}master/{stem}_master_{master.width}x{master.height}{master_ext}",
                    open=_opener(master.file_key),
                    meta={"role": "master", "draft_id": draft.pk, **master.as_json()},
                )
            )
        for version in versions:
            ext = _EXTENSIONS.get(version.format, "." + version.format.lower())
            channel = name_part(version.preset.slug)
            members.append(
                PackMember(
                    name=f"{prefix}exports/{stem}_{channel}_{version.width}x{version.height}{ext}",
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


def name_part(text: str, limit: int = 40) -> str:
    """A readable ASCII piece of a file name: accents dropped, anything else a hyphen."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    part = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()[:limit].strip("-")
    return part or "untitled"


def draft_title(draft: Draft) -> str:
    """The draft's title for file names: its upload name without folders or extension, and
    its id, which keeps it unique and stable when two uploads share a name."""
    base = re.split(r"[\\/]", draft.original_name)[-1]
    return f"{name_part(PurePosixPath(base).stem)}-d{draft.pk}"


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
