"""Signed, expiring pack links. The link only names the pack; whoever opens it must still be a
logged-in member of the pack's campaign who may export (the view checks again)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from apps.exports.models import Pack

_SALT = "apps.exports.pack-link"


def pack_link_token(pack: Pack) -> str:
    # The file's hash is part of the token, so a rebuilt or replaced pack voids old links.
    return signing.dumps({"pack": pack.pk, "sha": pack.sha256[:16]}, salt=_SALT, compress=True)


def pack_id_from_token(token: str) -> tuple[int, str] | None:
    """The pack id and file fingerprint, or None for a bad, forged or expired token."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.DRAFTROOM_PACK_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pack"), int):
        return None
    return data["pack"], str(data.get("sha", ""))
