"""Deterministic storage keys. Nothing here comes from a user-supplied file name."""

from __future__ import annotations


def original_key(*, campaign_id: int, sha256: str, extension: str) -> str:
    return f"campaigns/{campaign_id}/originals/{sha256[:2]}/{sha256}{extension}"


def reference_key(*, campaign_id: int, sha256: str, extension: str) -> str:
    return f"campaigns/{campaign_id}/references/{sha256[:2]}/{sha256}{extension}"


def rendition_key(*, campaign_id: int, draft_id: int, name: str, sha256: str, ext: str) -> str:
    return f"campaigns/{campaign_id}/renditions/{draft_id}/{name}-{sha256[:16]}{ext}"
