"""Deterministic storage keys for exports and packs; nothing here comes from a file name."""

from __future__ import annotations

from workers.focal import Box


def version_key(
    *, campaign_id: int, master_sha256: str, slug: str, spec_hash: str, crop: Box, ext: str
) -> str:
    crop_part = "-".join(str(v) for v in crop.as_list())
    return (
        f"campaigns/{campaign_id}/exports/{master_sha256[:2]}/{master_sha256}/"
        f"{slug}-{spec_hash[:16]}-{crop_part}{ext}"
    )


def pack_key(*, campaign_id: int, pack_id: int, ext: str) -> str:
    return f"campaigns/{campaign_id}/packs/pack-{pack_id}{ext}"
