from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageStat

from tests.images import (
    HOSTILE_CASES,
    MARKER_TOP_LEFT,
    MARKER_TOP_RIGHT,
    encode_jpeg,
    encode_png,
    jpeg_bytes,
    pattern_image,
    png_bytes,
    srgb_icc,
    swapped_primaries_icc,
    webp_bytes,
)
from workers.imaging.colour import srgb_profile
from workers.intake import IntakeError, inspect_image
from workers.renditions import (
    DEFAULT_SPECS,
    Rendition,
    RenditionError,
    RenditionSpec,
    render_renditions,
)

THUMB_ONLY = (RenditionSpec("thumb", 480),)


def decode(rendition: Rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def corner_colours(image: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Mean colour just inside the top-left and top-right corners, clear of edge artefacts."""
    rgb = image.convert("RGB")
    inset = max(2, min(rgb.size) // 20)
    box = max(2, min(rgb.size) // 12)
    left = rgb.crop((inset, inset, inset + box, inset + box))
    right = rgb.crop((rgb.width - inset - box, inset, rgb.width - inset, inset + box))
    return (
        tuple(round(v) for v in ImageStat.Stat(left).mean),
        tuple(round(v) for v in ImageStat.Stat(right).mean),
    )


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def mean_colour(image: Image.Image) -> tuple[int, ...]:
    return tuple(round(v) for v in ImageStat.Stat(image.convert("RGB")).mean)


def test_default_specs_give_a_webp_thumb_and_preview_in_spec_order() -> None:
    data = encode_png(pattern_image((3000, 2000)))
    thumb, preview = render_renditions(data)
    assert (thumb.name, thumb.width, thumb.height) == ("thumb", 480, 320)
    assert (preview.name, preview.width, preview.height) == ("preview", 2048, 1365)
    for rendition in (thumb, preview):
        assert (rendition.format, rendition.content_type) == ("WEBP", "image/webp")
        image = decode(rendition)
        assert image.format == "WEBP"
        assert image.size == (rendition.width, rendition.height)
    assert [spec.name for spec in DEFAULT_SPECS] == ["thumb", "preview"]


def test_spec_order_is_kept_even_when_smaller_sizes_are_listed_last_or_first() -> None:
    specs = (RenditionSpec("mid", 300), RenditionSpec("tiny", 50), RenditionSpec("big", 800))
    out = render_renditions(encode_png(pattern_image((1000, 500))), specs)
    assert [(r.name, r.width, r.height) for r in out] == [
        ("mid", 300, 150),
        ("tiny", 50, 25),
        ("big", 800, 400),
    ]


def test_small_images_are_never_upscaled() -> None:
    for rendition in render_renditions(png_bytes((64, 48))):
        assert (rendition.width, rendition.height) == (64, 48)


def test_tall_images_are_fitted_by_their_longest_side() -> None:
    (thumb,) = render_renditions(encode_png(pattern_image((600, 1200))), THUMB_ONLY)
    assert (thumb.width, thumb.height) == (240, 480)


def test_resized_output_still_shows_the_pattern_in_the_right_places() -> None:
    (thumb,) = render_renditions(encode_png(pattern_image((1200, 900))), THUMB_ONLY)
    top_left, top_right = corner_colours(decode(thumb))
    assert close_to(top_left, MARKER_TOP_LEFT, 20)
    assert close_to(top_right, MARKER_TOP_RIGHT, 20)


def test_exif_rotated_jpeg_comes_out_upright() -> None:
    _name, data = HOSTILE_CASES["exif_rotated_jpeg"]()
    for rendition in render_renditions(data):
        assert (rendition.width, rendition.height) == (48, 64)
        top_left, top_right = corner_colours(decode(rendition))
        assert close_to(top_left, MARKER_TOP_LEFT, 40), top_left
        assert close_to(top_right, MARKER_TOP_RIGHT, 40), top_right


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_undone_on_large_jpegs_that_shrink_on_load(
    orientation: int,
) -> None:
    upright = pattern_image((1600, 1200))
    # Store the image so that applying ``orientation`` shows ``upright`` again.
    inverse = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = upright if inverse is None else upright.transpose(inverse)
    data = encode_jpeg(stored, exif_orientation=orientation, quality=92)
    (thumb,) = render_renditions(data, (RenditionSpec("thumb", 320),))
    assert (thumb.width, thumb.height) == (320, 240)
    top_left, top_right = corner_colours(decode(thumb))
    assert close_to(top_left, MARKER_TOP_LEFT, 40), top_left
    assert close_to(top_right, MARKER_TOP_RIGHT, 40), top_right


def test_an_untagged_cmyk_jpeg_previews_in_the_colours_of_its_channel_versions() -> None:
    # Untagged CMYK goes through libvips' built-in CMYK profile in previews and exports alike.
    from workers.render import PresetSpec, render_channel_versions

    _name, data = HOSTILE_CASES["cmyk_jpeg"]()
    (thumb,) = render_renditions(data, (RenditionSpec("t", 64, "PNG"),))
    (export,) = render_channel_versions(data, [PresetSpec("t", 64, 48, format="PNG")])
    image = decode(thumb)
    assert image.mode == "RGB" and export.data is not None
    assert close_to(mean_colour(image), mean_colour(Image.open(io.BytesIO(export.data))), 3)
    top_left, _ = corner_colours(image)
    assert close_to(top_left, MARKER_TOP_LEFT, 80)  # the red marker is still red


def test_sixteen_bit_greyscale_is_scaled_down_not_clipped_to_white() -> None:
    (thumb,) = render_renditions(png_bytes(mode="I;16", color=40000), THUMB_ONLY)
    red, green, blue = mean_colour(decode(thumb))
    assert abs(red - 40000 / 257) <= 2
    assert red == green == blue


def test_sixteen_bit_greyscale_gradient_keeps_its_tonal_range() -> None:
    data = encode_png(pattern_image((200, 100), "I;16"))
    (thumb,) = render_renditions(data, THUMB_ONLY)
    low, high = decode(thumb).convert("L").getextrema()
    assert isinstance(low, int) and low < 40
    assert isinstance(high, int) and high > 215


def test_sixteen_bit_rgb_png_renders_with_the_expected_mean_colour() -> None:
    _name, data = HOSTILE_CASES["png_16bit"]()
    (thumb,) = render_renditions(data, THUMB_ONLY)
    assert close_to(mean_colour(decode(thumb)), (128, 128, 128), 4)


def test_alpha_is_kept_in_the_webp_thumb() -> None:
    data = encode_png(pattern_image((800, 600), "RGBA"))
    (thumb,) = render_renditions(data, THUMB_ONLY)
    image = decode(thumb)
    assert image.mode == "RGBA"
    assert pixel(image, (image.width // 2, image.height - 1))[3] < 30
    assert pixel(image, (image.width // 2, 5))[3] == 255


def test_palette_transparency_becomes_real_alpha() -> None:
    _name, data = HOSTILE_CASES["palette_transparency"]()
    (thumb,) = render_renditions(data, THUMB_ONLY)
    image = decode(thumb)
    assert image.mode == "RGBA"
    assert pixel(image, (2, 2))[3] == 0
    assert pixel(image, (32, 24))[3] == 255


def test_greyscale_with_alpha_becomes_rgba() -> None:
    data = png_bytes(mode="LA", color=(90, 128))
    (thumb,) = render_renditions(data, THUMB_ONLY)
    image = decode(thumb)
    assert image.mode == "RGBA"
    assert close_to(pixel(image, (5, 5)), (90, 90, 90, 128), 3)


def test_fully_opaque_alpha_is_dropped_to_save_bytes() -> None:
    (thumb,) = render_renditions(png_bytes(mode="RGBA", color=(10, 20, 30, 255)), THUMB_ONLY)
    assert decode(thumb).mode == "RGB"


def test_jpeg_output_flattens_transparency_onto_white() -> None:
    data = png_bytes(mode="RGBA", color=(255, 0, 0, 0))
    (rendition,) = render_renditions(data, (RenditionSpec("jpeg", 100, format="JPEG"),))
    assert (rendition.format, rendition.content_type) == ("JPEG", "image/jpeg")
    image = decode(rendition)
    assert image.mode == "RGB"
    assert close_to(pixel(image, (5, 5)), (255, 255, 255), 3)


def test_png_output_keeps_alpha() -> None:
    data = png_bytes(mode="RGBA", color=(255, 0, 0, 100))
    (rendition,) = render_renditions(data, (RenditionSpec("png", 100, format="png"),))
    assert (rendition.format, rendition.content_type) == ("PNG", "image/png")
    assert pixel(decode(rendition), (3, 3)) == (255, 0, 0, 100)


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG", "PNG"])
def test_every_output_carries_the_srgb_profile_and_no_other_metadata(fmt: str) -> None:
    data = encode_jpeg(
        pattern_image((300, 200)),
        exif_orientation=3,
        user_comment="secret prompt",
        description="private description",
    )
    (rendition,) = render_renditions(data, (RenditionSpec("out", 128, format=fmt),))
    image = decode(rendition)
    assert image.info.get("icc_profile") == srgb_profile()
    assert "exif" not in image.info
    assert "xmp" not in image.info
    assert b"secret prompt" not in rendition.data
    assert "secret prompt".encode("utf-16-be") not in rendition.data


def test_embedded_colour_profile_is_honoured() -> None:
    # Under the swapped profile, pure red pixels mean sRGB green.
    data = png_bytes(color=(255, 0, 0), icc=swapped_primaries_icc())
    (thumb,) = render_renditions(data, THUMB_ONLY)
    red, green, blue = pixel(decode(thumb), (5, 5))
    assert green > 200 and red < 60 and blue < 60


def test_srgb_profile_leaves_colours_unchanged() -> None:
    data = png_bytes(color=(200, 80, 40), icc=srgb_icc())
    (thumb,) = render_renditions(data, (RenditionSpec("png", 64, format="PNG"),))
    assert close_to(pixel(decode(thumb), (5, 5)), (200, 80, 40), 2)


def test_broken_colour_profile_falls_back_to_the_raw_colours() -> None:
    data = png_bytes(color=(200, 80, 40), icc=b"not a profile at all" * 8)
    (thumb,) = render_renditions(data, (RenditionSpec("png", 64, format="PNG"),))
    assert pixel(decode(thumb), (5, 5)) == (200, 80, 40)


def test_mismatched_colour_profile_on_a_greyscale_image_is_ignored() -> None:
    data = png_bytes(mode="L", color=100, icc=srgb_icc())
    (thumb,) = render_renditions(data, (RenditionSpec("png", 64, format="PNG"),))
    assert pixel(decode(thumb), (5, 5)) == (100, 100, 100)


def test_webp_and_jpeg_inputs_render_too() -> None:
    for data in (webp_bytes((900, 300)), jpeg_bytes((900, 300))):
        (thumb,) = render_renditions(data, THUMB_ONLY)
        assert (thumb.width, thumb.height) == (480, 160)


def test_empty_spec_list_renders_nothing() -> None:
    assert render_renditions(png_bytes(), ()) == []


@pytest.mark.parametrize("spec", [RenditionSpec("x", 100, format="GIF"), RenditionSpec("x", 0)])
def test_impossible_specs_are_refused(spec: RenditionSpec) -> None:
    with pytest.raises(RenditionError):
        render_renditions(png_bytes(), (spec,))


@pytest.mark.parametrize("case", ["zero_byte", "truncated_png", "truncated_jpeg", "svg"])
def test_undecodable_input_raises_a_rendition_error(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    with pytest.raises(RenditionError):
        render_renditions(data)


FUZZ_SEED = encode_jpeg(pattern_image((40, 30)), exif_orientation=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 4096), st.integers(1, 255)), max_size=6))
def test_files_that_pass_intake_either_render_or_raise_a_rendition_error(
    flips: list[tuple[int, int]],
) -> None:
    data = bytearray(FUZZ_SEED)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    try:
        facts = inspect_image(bytes(data))
    except IntakeError:
        return
    try:
        (thumb,) = render_renditions(bytes(data), THUMB_ONLY)
    except RenditionError:
        return
    assert max(thumb.width, thumb.height) == min(480, max(facts.width, facts.height))
    assert (thumb.width >= thumb.height) == (facts.width >= facts.height)
