"""Every storage key layout, in one place. Keys are deterministic and built from server data
only (ids and content hashes), never from a user-supplied file name.

These strings are stored in the database (``file_key``, ``output_key``), so a layout never
changes in place: files written under today's layout must stay reachable. A new layout gets
a new function; tests/core/test_storage_keys.py pins each one.
"""

from __future__ import annotations

from workers.focal import Box


def _campaign(campaign_id: int) -> str:
    return f"campaigns/{campaign_id}"


# --- drafts ------------------------------------------------------------------------------------


def original_key(*, campaign_id: int, sha256: str, extension: str) -> str:
    """An uploaded original (or a revision's file), shared by drafts with the same bytes."""
    return f"{_campaign(campaign_id)}/originals/{sha256[:2]}/{sha256}{extension}"


def reference_key(*, campaign_id: int, sha256: str, extension: str) -> str:
    return f"{_campaign(campaign_id)}/references/{sha256[:2]}/{sha256}{extension}"


def rendition_key(*, campaign_id: int, draft_id: int, name: str, sha256: str, ext: str) -> str:
    return f"{_campaign(campaign_id)}/renditions/{draft_id}/{name}-{sha256[:16]}{ext}"


def load_seed_original_key(*, campaign_id: int) -> str:
    """The one original every draft of the load-test campaign shares (``load_seed``)."""
    return f"{_campaign(campaign_id)}/originals/load/original.png"


def load_seed_rendition_key(*, campaign_id: int, name: str) -> str:
    return f"{_campaign(campaign_id)}/renditions/load/{name}.webp"


# --- reviews -----------------------------------------------------------------------------------


def product_reference_key(*, campaign_id: int, sha256: str, extension: str) -> str:
    return f"{_campaign(campaign_id)}/product-reference/{sha256}{extension}"


# --- upscales ----------------------------------------------------------------------------------


def upscale_key(
    *,
    campaign_id: int,
    sha256: str,
    model_name: str,
    scale: float,
    neural: bool,
    weights_sha256: str,
) -> str:
    """Keyed by the source and everything the output depends on, the weights included; the
    classical (non-neural) resampler has none."""
    weights = weights_sha256[:16] if neural else "none"
    return (
        f"{_campaign(campaign_id)}/upscales/{sha256[:2]}/"
        f"{sha256}-{model_name}-x{scale:g}-{weights}.png"
    )


# --- exports -----------------------------------------------------------------------------------


def version_key(
    *, campaign_id: int, master_sha256: str, slug: str, spec_hash: str, crop: Box, ext: str
) -> str:
    crop_part = "-".join(str(v) for v in crop.as_list())
    return (
        f"{_campaign(campaign_id)}/exports/{master_sha256[:2]}/{master_sha256}/"
        f"{slug}-{spec_hash[:16]}-{crop_part}{ext}"
    )


def pack_key(*, campaign_id: int, pack_id: int, ext: str) -> str:
    return f"{_campaign(campaign_id)}/packs/pack-{pack_id}{ext}"
