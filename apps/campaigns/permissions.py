"""What each campaign role may do. Views ask for a capability; getters enforce it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from apps.campaigns.models import Campaign, Role


class Can(StrEnum):
    VIEW = "view"
    UPLOAD = "upload"
    REVIEW = "review"
    SIGN_OFF = "sign_off"
    DOWNLOAD_ORIGINAL = "download_original"
    ASSIGN_REWORK = "assign_rework"
    UPSCALE = "upscale"
    EXPORT = "export"
    # Edit the campaign, invite and remove people, archive and restore. Not a role's: staff and
    # the campaign's creator hold it (``is_owner``).
    OWN = "own"


ROLE_CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.CREATOR: frozenset({Can.VIEW, Can.UPLOAD, Can.DOWNLOAD_ORIGINAL}),
    Role.REVIEWER: frozenset({Can.VIEW, Can.REVIEW, Can.DOWNLOAD_ORIGINAL}),
    Role.ART_DIRECTOR: frozenset(
        {
            Can.VIEW,
            Can.UPLOAD,
            Can.REVIEW,
            Can.SIGN_OFF,
            Can.DOWNLOAD_ORIGINAL,
            Can.ASSIGN_REWORK,
            Can.UPSCALE,
            Can.EXPORT,
        }
    ),
    Role.PRODUCER: frozenset({Can.VIEW, Can.DOWNLOAD_ORIGINAL, Can.EXPORT}),
}


# What anyone may still do in an archived campaign: look, and an owner may restore it.
ARCHIVED_CAPABILITIES = frozenset({Can.VIEW, Can.DOWNLOAD_ORIGINAL, Can.OWN})


def role_can(role: str, capability: Can) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())


def is_owner(user: Any, campaign: Campaign) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff) or (
        campaign.created_by_id is not None and campaign.created_by_id == user.pk
    )


def can_create_campaigns(user: Any) -> bool:
    """Staff, and people given the ``campaigns.add_campaign`` permission in Django admin."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff) or user.has_perm("campaigns.add_campaign")
