"""Writes for packs (requests and expiry) and the files a pack holds."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
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
from apps.exports.masters import master_for
from apps.exports.models import Pack, PackKind
from apps.exports.selectors import asset_record, current_versions, kept_drafts
from workers.packs import PackMember, safe_member_name

logger = logging.getLogger(__name__)


_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def pack_queue(
    *, campaign: Campaign, by: User | None, draft: Draft | None = None, kind: str = PackKind.ZIP
) -> Pack:
    """Queue a channel pack (a draft's or the campaign's kept drafts') or the campaign deck."""
    if kind not in PackKind.values:
        raise Refusal("Unknown pack kind.")
    if draft is not None and draft.campaign_id != campaign.pk:
        raise Refusal("That draft belongs to another campaign.")
    drafts = [draft] if draft is not None else list(kept_drafts(campaign=campaign))
    if not drafts:
        raise Refusal("No kept drafts yet: keep at least one draft first.")
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
