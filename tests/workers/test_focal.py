"""The saliency proposal and the crop maths, on pictures whose subject we placed ourselves."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from workers.focal import (
    Box,
    SafeArea,
    box_from_fractions,
    detect_focal,
    fit_box_to_aspect,
    plan_crop,
    scale_box,
    upscale_needed,
)
from workers.presets import DEFAULT_PRESETS


def scene(
    background: str,
    subject: tuple[int, int, int, int],
    *,
    size: tuple[int, int] = (1200, 800),
    colour: tuple[int, int, int] = (220, 40, 40),
    seed: int = 3,
) -> Image.Image:
    """A product-shot-like picture: a coloured object on a plain, sky-like or textured ground."""
    rng = np.random.default_rng(seed)
    width, height = size
    if background == "flat":
        pixels = np.full((height, width, 3), (200, 205, 210), np.float32)
    elif background == "sky":
        t = np.linspace(0, 1, height)[:, None, None]
        pixels = (1 - t) * np.array([120, 170, 230]) + t * np.array([60, 120, 60])
        pixels = np.broadcast_to(pixels, (height, width, 3)).astype(np.float32)
    else:
        grain = rng.normal(0, 25, (height, width, 1))
        pixels = np.full((height, width, 3), (140, 120, 100), np.float32) + grain
    pixels = pixels + rng.normal(0, 8, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    ImageDraw.Draw(image).ellipse(subject, fill=colour)
    return image


def as_box(rect: tuple[int, int, int, int]) -> Box:
    return Box(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1])


def overlap(a: Box, b: Box) -> int:
    width = max(0, min(a.right, b.right) - max(a.x, b.x))
    height = max(0, min(a.bottom, b.bottom) - max(a.y, b.y))
    return width * height


SUBJECTS = [
    (800, 250, 1000, 500),
    (100, 100, 300, 300),
    (500, 300, 700, 700),
    (950, 560, 1150, 740),
]


@pytest.mark.parametrize("background", ["flat", "sky", "texture"])
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("colour", [(220, 40, 40), (30, 60, 230), (40, 40, 40)])
def test_the_proposal_finds_a_subject_we_placed(background, subject, colour):
    guess = detect_focal(scene(background, subject, colour=colour))
    truth = as_box(subject)
    assert overlap(guess.box, truth) >= 0.9 * truth.width * truth.height, guess
    # Tight enough to mean something: well under half the picture.
    assert guess.box.width * guess.box.height <= 0.3 * 1200 * 800, guess
    assert guess.confidence > 0.5
    assert guess.size == (1200, 800)


def test_a_picture_with_no_subject_gets_the_middle_with_low_confidence():
    guess = detect_focal(Image.new("RGB", (600, 400), (120, 130, 140)))
    assert guess.confidence == 0.0
    assert guess.box.contains(Box(290, 190, 20, 20))


def test_a_cut_out_product_on_transparency_is_found_by_its_alpha():
    image = Image.new("RGBA", (800, 600), (255, 255, 255, 0))
    ImageDraw.Draw(image).rectangle((80, 320, 260, 560), fill=(200, 200, 200, 255))
    guess = detect_focal(image)
    assert overlap(guess.box, Box(80, 320, 181, 241)) >= 0.9 * 181 * 241


def test_the_proposal_reads_encoded_files_and_follows_exif_orientation():
    upright = scene("flat", (50, 900, 250, 1100), size=(800, 1200))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    guess = detect_focal(buffer.getvalue())
    assert guess.size == (800, 1200)
    assert overlap(guess.box, Box(50, 900, 200, 200)) >= 0.9 * 200 * 200


# --- crops -----------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", DEFAULT_PRESETS, ids=lambda p: p.slug)
@pytest.mark.parametrize(
    "focal", [Box(60, 60, 300, 300), Box(2500, 1500, 400, 400), Box(1400, 900, 300, 250)]
)
def test_every_default_preset_crop_keeps_the_focal_rectangle_inside(preset, focal):
    plan = plan_crop((3000, 2000), preset.size, focal, preset.safe_area)
    assert plan.box.contains(focal)
    assert plan.box.x >= 0 and plan.box.right <= 3000 and plan.box.bottom <= 2000
    assert abs(plan.box.width / plan.box.height - preset.width / preset.height) < 0.01


def test_the_crop_keeps_the_subjects_relative_position_like_wagtail():
    # A subject a quarter of the way across stays about a quarter of the way across.
    plan = plan_crop((4000, 1000), (1000, 1000), Box(950, 400, 100, 100))
    centre = plan.box.x + plan.box.width * 0.25
    assert abs(centre - 1000) <= 2
    assert plan.warnings == ()


def test_the_crop_moves_to_keep_the_subject_out_of_the_safe_area():
    safe = SafeArea(top=0.14, bottom=0.20)
    focal = Box(300, 450, 400, 200)  # relative placement alone would put it in the top band
    unsafe = plan_crop((1080, 3000), (1080, 1920), focal)
    assert unsafe.box.y + 0.14 * 1920 > focal.y  # the plain Wagtail crop breaks the band
    plan = plan_crop((1080, 3000), (1080, 1920), focal, safe)
    assert plan.box.y + 0.14 * 1920 <= focal.y
    assert focal.bottom <= plan.box.y + 0.80 * 1920
    assert plan.warnings == ()


def test_a_subject_that_cannot_leave_the_safe_area_is_reported():
    plan = plan_crop((1920, 1080), (1080, 1920), Box(800, 20, 300, 200), SafeArea(top=0.14))
    assert plan.box.contains(Box(800, 20, 300, 200))
    assert any("top safe area" in w for w in plan.warnings)


def test_a_subject_wider_than_the_frame_is_reported():
    plan = plan_crop((3000, 1000), (1000, 1000), Box(100, 100, 2500, 500))
    assert any("larger than this frame" in w for w in plan.warnings)


@settings(max_examples=150, deadline=None)
@given(
    width=st.integers(50, 6000),
    height=st.integers(50, 6000),
    out_w=st.integers(16, 3000),
    out_h=st.integers(16, 3000),
    fx=st.floats(0, 1),
    fy=st.floats(0, 1),
    fs=st.floats(0.01, 0.3),
)
def test_crops_stay_in_the_picture_and_hold_the_subject_when_it_fits(
    width, height, out_w, out_h, fx, fy, fs
):
    focal = Box(
        int(fx * width * (1 - fs)),
        int(fy * height * (1 - fs)),
        max(1, int(width * fs)),
        max(1, int(height * fs)),
    )
    plan = plan_crop((width, height), (out_w, out_h), focal)
    box = plan.box
    assert box.x >= 0 and box.y >= 0 and box.right <= width and box.bottom <= height
    fits = focal.width <= box.width and focal.height <= box.height
    if fits:
        assert box.contains(focal), (box, focal)


def test_upscale_needed_is_the_larger_of_the_two_axes():
    assert upscale_needed(Box(0, 0, 800, 600), (1080, 1080)) == pytest.approx(1.8)
    assert upscale_needed(Box(0, 0, 4000, 4000), (1080, 1080)) < 1


def test_a_persons_crop_is_locked_to_the_frames_aspect_ratio_and_kept_inside():
    box = fit_box_to_aspect(Box(900, 100, 500, 290), (1000, 800), (1920, 1080))
    assert abs(box.width / box.height - 16 / 9) < 0.01
    assert box.right <= 1000 and box.bottom <= 800


def test_fraction_boxes_from_the_browser_are_clamped_and_checked():
    assert box_from_fractions((0.1, 0.2, 0.5, 0.5), (1000, 500)) == Box(100, 100, 500, 250)
    assert box_from_fractions((-0.2, 0.9, 0.5, 0.5), (1000, 500)) == Box(0, 450, 300, 50)
    with pytest.raises(ValueError):
        box_from_fractions((0.1, 0.1, 0.0, 0.5), (1000, 500))
    with pytest.raises(ValueError):
        box_from_fractions((float("nan"), 0.1, 0.5, 0.5), (1000, 500))


def test_boxes_scale_between_a_preview_and_an_upscaled_master():
    assert scale_box(Box(10, 20, 30, 40), (100, 100), (400, 400)) == Box(40, 80, 120, 160)
    assert scale_box(Box(10, 20, 30, 40), (100, 100), (100, 100)) == Box(10, 20, 30, 40)
