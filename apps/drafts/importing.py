"""Folder import: a generator's output folder becomes one batch, with sidecar metadata."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User

from apps.campaigns.models import Campaign
from apps.core.errors import Refusal
from apps.drafts.models import Batch
from apps.drafts.services import IntakeResult, batch_create, draft_intake, reference_add_file
from workers.genmeta import read_sidecar

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
SIDECAR_SUFFIXES = {".json", ".txt"}


@dataclass
class ImportReport:
    batch: Batch
    results: list[IntakeResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _image_files(folder: Path, recursive: bool) -> Iterator[Path]:
    paths = folder.rglob("*") if recursive else folder.iterdir()
    for path in sorted(paths):
        if path.is_file() and not path.is_symlink():
            yield path


def drafts_import_folder(
    *,
    folder: Path,
    campaign: Campaign,
    batch_name: str,
    by: User | None,
    recursive: bool = False,
) -> ImportReport:
    folder = folder.resolve()
    batch = batch_create(
        campaign=campaign, name=batch_name or folder.name, created_by=by, source="import"
    )
    report = ImportReport(batch=batch)
    for path in _image_files(folder, recursive):
        suffix = path.suffix.lower()
        if suffix in SIDECAR_SUFFIXES:
            continue
        if suffix not in IMAGE_SUFFIXES:
            report.skipped.append(str(path.relative_to(folder)))
            continue
        sidecar = read_sidecar(path)
        with path.open("rb") as fh:
            result = draft_intake(
                batch=batch,
                uploaded_by=by,
                name=path.name,
                upload=fh,
                size=path.stat().st_size,
                sidecar=sidecar,
            )
        report.results.append(result)
        if result.status == "added" and result.draft is not None:
            for ref in sidecar.references:
                _attach_file_reference(folder, path, ref, result, by)
    return report


def _attach_file_reference(
    folder: Path, image: Path, ref: str, result: IntakeResult, by: User | None
) -> None:
    if ref.startswith(("http://", "https://")) or result.draft is None:
        return
    candidate = (image.parent / ref).resolve()
    # A sidecar must not reach outside the imported folder (../../etc/passwd).
    if not candidate.is_relative_to(folder) or not candidate.is_file():
        result.message += f" Reference “{ref}” ignored: not a file inside the folder."
        return
    try:
        reference_add_file(
            draft=result.draft, name=candidate.name, data=candidate.read_bytes(), by=by
        )
    except Refusal as exc:
        result.message += f" Reference “{ref}” not added: {exc.message}"
