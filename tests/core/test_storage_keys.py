"""Each storage key layout, pinned: keys are stored in rows, so files written under today's
layout must stay reachable after any refactor."""

from __future__ import annotations

from apps.core import storage_keys as keys
from workers.focal import Box

SHA = "ab" + "c" * 62


def test_an_original_is_keyed_by_campaign_and_content():
    assert (
        keys.original_key(campaign_id=7, sha256=SHA, extension=".png")
        == f"campaigns/7/originals/ab/{SHA}.png"
    )


def test_a_reference_file_is_keyed_by_campaign_and_content():
    assert (
        keys.reference_key(campaign_id=7, sha256=SHA, extension=".jpg")
        == f"campaigns/7/references/ab/{SHA}.jpg"
    )


def test_a_rendition_is_keyed_by_draft_name_and_a_short_hash():
    assert (
        keys.rendition_key(campaign_id=7, draft_id=3, name="thumb", sha256=SHA, ext=".webp")
        == f"campaigns/7/renditions/3/thumb-{SHA[:16]}.webp"
    )


def test_the_load_seed_shares_one_original_and_one_set_of_renditions():
    assert keys.load_seed_original_key(campaign_id=7) == "campaigns/7/originals/load/original.png"
    assert (
        keys.load_seed_rendition_key(campaign_id=7, name="preview")
        == "campaigns/7/renditions/load/preview.webp"
    )


def test_a_product_reference_is_keyed_by_campaign_and_content():
    assert (
        keys.product_reference_key(campaign_id=7, sha256=SHA, extension=".png")
        == f"campaigns/7/product-reference/{SHA}.png"
    )


def test_a_neural_upscale_is_keyed_by_source_model_scale_and_weights():
    weights = "f" * 64
    assert (
        keys.upscale_key(
            campaign_id=7,
            sha256=SHA,
            model_name="realesrgan-x4plus",
            scale=4.0,
            neural=True,
            weights_sha256=weights,
        )
        == f"campaigns/7/upscales/ab/{SHA}-realesrgan-x4plus-x4-{'f' * 16}.png"
    )


def test_a_classical_upscale_has_no_weights_in_its_key():
    assert (
        keys.upscale_key(
            campaign_id=7,
            sha256=SHA,
            model_name="lanczos",
            scale=2.5,
            neural=False,
            weights_sha256="",
        )
        == f"campaigns/7/upscales/ab/{SHA}-lanczos-x2.5-none.png"
    )


def test_a_channel_version_is_keyed_by_master_spec_and_crop():
    key = keys.version_key(
        campaign_id=7,
        master_sha256=SHA,
        slug="square",
        spec_hash="0123456789abcdef0123",
        crop=Box(10, 20, 300, 300),
        ext=".jpg",
    )
    assert key == f"campaigns/7/exports/ab/{SHA}/square-0123456789abcdef-10-20-300-300.jpg"


def test_a_pack_is_keyed_by_its_id():
    assert keys.pack_key(campaign_id=7, pack_id=12, ext=".zip") == "campaigns/7/packs/pack-12.zip"
