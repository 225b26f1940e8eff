"""What each campaign role may do. Views ask for a capability; getters enforce it."""

from __future__ import annotations

from enum import StrEnum

from apps.campaigns.models import Role


class Can(StrEnum):
    VIEW = "view"
    UPLOAD = "upload"
    REVIEW = "review"
    SIGN_OFF = "sign_off"
    DOWNLOAD_ORIGINAL = "download_original"
    ASSIGN_REWORK = "assign_rework"
    UPSCALE = "upscale"
    EXPORT = "export"


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


def role_can(role: str, capability: Can) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())
