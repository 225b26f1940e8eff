"""Signed, expiring pack links. The link only names the pack; whoever opens it must still be a
logged-in member of the pack's campaign who may export (the view checks again)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.core.models import JobStatus
from apps.exports.models import Pack

_SALT = "apps.exports.pack-link"


def pack_link_token(pack: Pack, membership: Membership) -> str:
    """A link to a finished pack, made only for a member of the pack's campaign who may
    export: the token itself carries no rights, but nobody hands out links to what they cannot
    download themselves."""
    if membership.campaign_id != pack.campaign_id or not role_can(membership.role, Can.EXPORT):
        raise PermissionDenied("Only members who may export can make a link to this pack.")
    if pack.status != JobStatus.DONE or not pack.output_key:
        raise PermissionDenied("The pack is not ready yet.")
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
