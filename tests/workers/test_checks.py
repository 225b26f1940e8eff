"""The check engines on images built here, with answers known in advance."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.checks.builders import scene
from tests.images import encode_jpeg, encode_png, pattern_image, png_16bit_rgb_bytes
from workers import checks
from workers.checks import (
    NEAR_DUPLICATE_BITS,
    CheckError,
    Placement,
    blockiness,
    check_crop,
    check_resolution,
    decode_for_checks,
    duplicate_groups,
    format_checks,
    hamming,
    measure,
    noise_sigma,
    perceptual_hash,
    placement_checks,
    sharpness,
    worst,
)


def decoded(image: Image.Image, fmt: str = "PNG", **options: object) -> checks.DecodedDraft:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return decode_for_checks(buffer.getvalue())


# --- resolution and crop ---------------------------------------------------------------------

# The engine holds no channel sizes: the app passes the campaign's presets in.
HERO = Placement("hero", "Hero banner", 2400, 800)
VERTICAL = Placement("vertical", "Vertical story", 1080, 1920)
SQUARE = Placement("square", "Square post", 1080, 1080)
SOCIAL = Placement("social", "Social 4:5", 1080, 1350)
WIDESCREEN = Placement("widescreen", "Widescreen", 1920, 1080)


def test_a_512_px_draft_fails_the_hero_banner_because_even_x4_is_not_enough():
    outcome = check_resolution(512, 512, HERO)
    assert outcome.status == "fail"
    assert outcome.value == pytest.approx(2400 / 512, abs=0.001)
    assert outcome.threshold == 4.0
    assert "Hero banner needs 2400 px wide: ×4.7 from this draft" in outcome.explanation


def test_a_1000_px_draft_needs_x2_4_for_the_hero_banner_and_is_told_so():
    outcome = check_resolution(1000, 1000, HERO)
    assert outcome.status == "warn"
    assert outcome.explanation.startswith("Hero banner needs 2400 px wide: ×2.4 from this draft")
    assert outcome.value_label == "×2.4"


def test_the_binding_side_is_named_when_the_placement_is_tall():
    outcome = check_resolution(1080, 1080, VERTICAL)
    assert outcome.status == "pass"
    assert "needs 1920 px tall: ×1.8" in outcome.explanation


def test_a_draft_larger_than_the_placement_needs_no_upscale():
    outcome = check_resolution(3000, 3000, SQUARE)
    assert (outcome.status, outcome.value_label) == ("pass", "no upscale")
    assert "already has enough pixels" in outcome.explanation


def test_a_square_draft_loses_two_thirds_to_the_hero_crop_and_a_fifth_to_social():
    hero = check_crop(1024, 1024, HERO)
    # A warning, not a failure: no square draft can fill a 3:1 banner, the words say what to do.
    assert hero.status == "warn"
    assert "keeps only 33% of the picture" in hero.explanation
    assert hero.value == pytest.approx(2 / 3, abs=0.001)
    assert "top and bottom" in hero.explanation and "3:1" in hero.explanation
    social = check_crop(1024, 1024, SOCIAL)
    assert social.status == "pass" and social.value == pytest.approx(0.2, abs=0.001)
    assert "left and right" in social.explanation
    same = check_crop(1920, 1080, WIDESCREEN)
    assert same.value == 0 and "nothing is cut away" in same.explanation


def test_placement_checks_give_every_resolution_then_every_crop_in_the_order_given():
    outcomes = placement_checks(1024, 1024, [HERO, SQUARE])
    assert [o.key for o in outcomes] == [
        "resolution.hero",
        "resolution.square",
        "crop.hero",
        "crop.square",
    ]


def test_a_placement_name_that_already_states_its_ratio_is_not_followed_by_it_again():
    named = check_crop(1024, 1024, Placement("social", "Social 4:5", 1080, 1350))
    assert named.explanation.startswith("Social 4:5 cuts 20%")
    unnamed = check_crop(1024, 1024, Placement("banner", "Banner", 2400, 800))
    assert unnamed.explanation.startswith("Banner (3:1) keeps only 33%")


# --- softness --------------------------------------------------------------------------------


def test_a_blurred_copy_scores_softer_and_the_verdict_follows():
    sharp = scene()
    scores = [
        sharpness(sharp.filter(ImageFilter.GaussianBlur(radius)).convert("L"))
        for radius in (0, 1, 2, 4)
    ]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 5 * scores[1] > 5 * scores[3]
    verdicts = [checks.check_softness(s).status for s in scores]
    assert verdicts[0] == "pass"
    assert verdicts[2:] == ["fail", "fail"]


def test_softness_is_judged_at_one_viewing_size_whatever_the_pixel_count():
    big = scene((2048, 2048), seed=4)
    small = big.resize((1024, 1024), Image.Resampling.LANCZOS)
    ratio = sharpness(big.convert("L")) / sharpness(small.convert("L"))
    assert 0.7 < ratio < 1.4
    # A quarter-size copy enlarged to the viewing size is softer: that is how it will look.
    tiny = big.resize((256, 256), Image.Resampling.LANCZOS)
    assert sharpness(tiny.convert("L")) < sharpness(small.convert("L")) / 3


def test_a_flat_picture_has_no_detail_at_all():
    assert sharpness(Image.new("L", (800, 600), 128)) == 0.0
    assert checks.check_softness(0.0).status == "fail"


# --- compression and noise -------------------------------------------------------------------


def test_a_jpeg_at_quality_10_scores_blockier_than_quality_90_and_the_png():
    image = scene(seed=2)
    lossless = blockiness(decoded(image).native)
    good = blockiness(decoded(image, "JPEG", quality=90).native)
    bad = blockiness(decoded(image, "JPEG", quality=10).native)
    assert lossless < 1.3 and good < 1.4
    assert bad > good + 0.5
    assert checks.check_blockiness(lossless).status == "pass"
    assert checks.check_blockiness(bad).status == "fail"


def test_blocks_are_still_found_after_shrink_on_load_halves_a_large_jpeg():
    image = scene((3400, 2400), seed=3)
    clean = decoded(image, "JPEG", quality=95)
    heavy = decoded(image, "JPEG", quality=10)
    assert heavy.reduction == 2 and max(heavy.upright.size) < 3400
    assert measure(heavy).blockiness > measure(clean).blockiness + 0.4


def test_blockiness_ignores_a_grid_that_is_not_on_the_block_boundaries():
    # Steps every 4 px (a gradient enlarged ×4) are not an 8×8 JPEG grid.
    ramp = np.repeat(np.arange(0, 200, 1.0, dtype=np.float32), 4)[None, :].repeat(64, axis=0)
    assert blockiness(ramp) == pytest.approx(1.0, abs=0.15)


@pytest.mark.parametrize(("sigma", "verdict"), [(0.0, "pass"), (5.0, "warn"), (12.0, "fail")])
def test_the_noise_estimate_recovers_added_grain(sigma, verdict):
    rng = np.random.default_rng(5)
    ramp = np.tile(np.linspace(40, 200, 768, dtype=np.float32), (512, 1))
    noisy = np.clip(ramp + rng.normal(0, sigma, ramp.shape), 0, 255).round().astype(np.uint8)
    estimate = noise_sigma(np.asarray(noisy, dtype=np.float32))
    assert estimate == pytest.approx(sigma, abs=max(0.6, sigma * 0.12))
    assert checks.check_noise(estimate).status == verdict


def test_edges_and_texture_are_not_taken_for_noise():
    assert noise_sigma(decoded(scene(seed=6)).native) < 1.0


# --- near-duplicates -------------------------------------------------------------------------


def test_a_resized_and_recompressed_copy_is_a_near_duplicate_and_an_unrelated_picture_is_not():
    original = scene(seed=8)
    copy = original.resize((700, 700), Image.Resampling.LANCZOS)
    recompressed = Image.open(io.BytesIO(encode_jpeg(copy, quality=60)))
    other = scene(seed=9)
    base = perceptual_hash(original)
    assert base is not None
    assert hamming(base, perceptual_hash(copy)) <= 4
    assert hamming(base, perceptual_hash(recompressed)) <= NEAR_DUPLICATE_BITS
    assert hamming(base, perceptual_hash(other)) > 2 * NEAR_DUPLICATE_BITS


def test_a_flat_colour_has_no_hash_to_compare():
    assert perceptual_hash(Image.new("RGB", (300, 200), (20, 120, 130))) is None


def test_duplicates_are_grouped_through_chains_under_the_smallest_id():
    a = 0x0F0F_0F0F_0F0F_0F0F
    b = a ^ 0b1111  # 4 bits from a
    c = b ^ (0b1111 << 8)  # 4 from b, 8 from a
    far = ~a & 0xFFFF_FFFF_FFFF_FFFF
    groups = duplicate_groups([(30, a), (12, b), (50, c), (7, far)], max_bits=5)
    assert {k: (v.group, v.size) for k, v in groups.items()} == {
        30: (12, 3),
        12: (12, 3),
        50: (12, 3),
        7: (None, 1),
    }
    assert groups[30].nearest == 4 and groups[7].nearest == 56  # c is 56 bits from far


def test_duplicate_groups_link_pairs_that_fall_in_different_blocks():
    rng = random.Random(3)
    hashes = [(i, rng.getrandbits(64)) for i in range(1200)]
    hashes[1100] = (1100, hashes[3][1] ^ 1)
    groups = duplicate_groups(hashes)
    assert groups[1100].group == 3 and groups[3].size == 2
    assert sum(1 for info in groups.values() if info.group is not None) == 2


# --- colour and format -----------------------------------------------------------------------


def _facts(**overrides: object) -> dict[str, str]:
    values = {
        "fmt": "PNG",
        "mode": "RGB",
        "bit_depth": 8,
        "has_alpha": False,
        "has_icc": False,
        "icc_description": "",
    }
    values.update(overrides)
    outcomes = format_checks(**values)  # type: ignore[arg-type]
    return {o.key: o.status for o in outcomes}


def test_a_plain_srgb_rgb_draft_passes_every_format_check():
    assert set(_facts().values()) == {"pass"}
    assert set(_facts(has_icc=True, icc_description="sRGB IEC61966-2.1").values()) == {"pass"}


def test_print_colours_wide_gamut_alpha_and_palettes_are_flagged():
    assert _facts(mode="CMYK", fmt="JPEG")["colour.mode"] == "warn"
    assert _facts(has_icc=True, icc_description="Display P3")["colour.icc"] == "warn"
    assert _facts(mode="RGBA", has_alpha=True)["colour.alpha"] == "warn"
    assert _facts(mode="P")["colour.mode"] == "warn"
    assert _facts(mode="I;16", bit_depth=16)["colour.depth"] == "pass"
    assert _facts(mode="1", bit_depth=1)["colour.depth"] == "warn"


def test_worst_status_wins():
    assert worst(["pass", "warn", "pass"]) == "warn"
    assert worst(["warn", "fail"]) == "fail"
    assert worst([]) == "pass"


# --- decoding --------------------------------------------------------------------------------


def test_the_exif_orientation_is_applied_before_hashing():
    upright = pattern_image((240, 320))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode_jpeg(stored, exif_orientation=6, quality=95)
    result = decode_for_checks(data)
    assert result.upright.size == (240, 320)
    assert hamming(perceptual_hash(result.upright), perceptual_hash(upright)) <= 4


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "CMYK", "I;16", "L"])
def test_every_intake_mode_decodes_to_grey(mode):
    image = pattern_image((96, 64), mode=mode)
    data = encode_jpeg(image) if mode == "CMYK" else encode_png(image)
    result = decode_for_checks(data)
    assert result.upright.mode == "L" and result.upright.size == (96, 64)
    assert result.native.shape == (64, 96)
    assert measure(result).sharpness >= 0


def test_sixteen_bit_pixels_are_scaled_not_clipped():
    result = decode_for_checks(png_16bit_rgb_bytes((64, 48)))
    assert result.native.max() < 255 and result.native.mean() > 20


def test_a_truncated_file_is_a_check_error_not_a_crash():
    data = encode_png(scene((256, 256)))
    with pytest.raises(CheckError):
        decode_for_checks(data[: len(data) // 3])
