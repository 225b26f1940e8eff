"""The one place exported files get their provenance: the XMP disclosure always, a C2PA
manifest when a signing certificate and key are configured (C2PA_SIGNING_CERT and
C2PA_SIGNING_KEY, PEM files). Callers build the ``Provenance`` from their record; the work is
in workers/provenance.py."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from workers.provenance import MIME, Provenance, c2pa_sign, embed_xmp, xmp_packet

__all__ = ["Provenance", "content_credentials_on", "credentials_id", "provenance_stamp"]


def content_credentials_on() -> bool:
    return bool(settings.C2PA_SIGNING_CERT and settings.C2PA_SIGNING_KEY)


def credentials_id() -> str:
    """Who signs now: a short hash of the signing certificate, or "" while credentials are off.
    Files signed by one certificate are not taken for files another (or none) would sign."""
    if not content_credentials_on():
        return ""
    return _file_digest(str(settings.C2PA_SIGNING_CERT))


def _file_digest(path: str) -> str:
    stat = os.stat(path)
    return _digest_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _digest_of(path: str, mtime_ns: int, size: int) -> str:
    # Keyed on the file's modification time and size too: a renewed certificate is read anew.
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def provenance_stamp(data: bytes, fmt: str, provenance: Provenance) -> bytes:
    """``data`` with its disclosure (and, when configured, signed content credentials). A
    format without XMP support here (AVIF) goes out as it is: the pack's manifest keeps the
    disclosure. A signing failure raises: a job that silently dropped credentials would look
    signed on the pages and not be."""
    if fmt.upper() not in MIME:
        return data
    stamped = embed_xmp(data, fmt, xmp_packet(provenance))
    if not content_credentials_on():
        return stamped
    return c2pa_sign(
        stamped,
        fmt,
        provenance,
        cert_pem=Path(settings.C2PA_SIGNING_CERT).read_bytes(),
        key_pem=Path(settings.C2PA_SIGNING_KEY).read_bytes(),
        alg=settings.C2PA_SIGNING_ALG,
    )
