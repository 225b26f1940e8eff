"""workers.imaging.decode: the one way into a file, on real images built in memory."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.images import (
    HOSTILE_CASES,
    MARKER_TOP_LEFT,
    encode_jpeg,
    encode_png,
    jpeg_bytes,
    pattern_image,
    png_16bit_rgb_bytes,
    png_bytes,
    png_header_only,
    srgb_icc,
    webp_bytes,
)
from tests.workers.imaging.builders import cmyk_icc, cmyk_jpeg, png_with_orientation
from workers.imaging.decode import (
    DecodeError,
    PixelLimits,
    TooManyPixels,
    apply_orientation,
    decode,
    open_vips,
    orient_array,
    to_eight_bit,
    vips_loader,
    vips_upright,
    vips_upright_size,
)


def _rotated_jpeg() -> bytes:
    return HOSTILE_CASES["exif_rotated_jpeg"]()[1]


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def test_an_exif_rotated_jpeg_comes_out_upright_with_its_stored_facts():
    decoded = decode(_rotated_jpeg())
    assert decoded.format == "JPEG"
    assert decoded.orientation == 6 and decoded.upright
    assert decoded.stored_size == (64, 48)
    assert decoded.size == decoded.image.size == (48, 64)
    assert _close(decoded.image.convert("RGB").getpixel((2, 2)), MARKER_TOP_LEFT, 40)


def test_an_upright_image_carries_no_orientation_tag_to_turn_it_twice():
    decoded = decode(_rotated_jpeg())
    assert decoded.image.getexif().get(0x0112) is None
    assert ImageOps.exif_transpose(decoded.image).size == (48, 64)


def test_kept_stored_orientation_turns_a_derived_copy_like_the_upright_decode():
    stored = decode(_rotated_jpeg(), upright=False)
    assert stored.image.size == (64, 48) and stored.orientation == 6
    grey = stored.image.convert("L")
    turned = apply_orientation(grey, stored.orientation)
    expected = decode(_rotated_jpeg()).image.convert("L")
    assert np.array_equal(np.asarray(turned), np.asarray(expected))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_turns_images_and_arrays_as_pillow_does(orientation):
    image = pattern_image((30, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.info["exif"] = exif.tobytes()
    expected = np.asarray(ImageOps.exif_transpose(image))
    plain = pattern_image((30, 20))
    assert np.array_equal(np.asarray(apply_orientation(plain, orientation)), expected)
    assert np.array_equal(orient_array(np.asarray(plain), orientation), expected)
    decoded = decode(png_with_orientation(pattern_image((30, 20)), orientation))
    assert decoded.orientation == orientation
    assert np.array_equal(np.asarray(decoded.image.convert("RGB")), expected)


def test_a_sixteen_bit_rgb_png_reports_its_depth_though_pillow_reads_eight_bits():
    decoded = decode(png_16bit_rgb_bytes((32, 24)))
    assert decoded.bit_depth == 16 and decoded.mode == "RGB" and not decoded.has_alpha


def test_a_sixteen_bit_grey_png_keeps_its_samples_and_scales_to_eight_bits():
    decoded = decode(png_bytes(mode="I;16", color=40000))
    assert decoded.bit_depth == 16 and decoded.mode.startswith("I")
    assert to_eight_bit(decoded.image).getpixel((3, 3)) == round(40000 / 257)


@pytest.mark.parametrize("with_profile", [False, True])
def test_a_cmyk_jpeg_stays_cmyk_with_or_without_its_profile(with_profile):
    decoded = decode(cmyk_jpeg(profile=with_profile))
    assert decoded.mode == "CMYK" and decoded.bit_depth == 8
    assert decoded.icc == (cmyk_icc() if with_profile else None)


def test_a_palette_image_with_transparency_has_alpha_and_becomes_rgba():
    decoded = decode(HOSTILE_CASES["palette_transparency"]()[1])
    assert decoded.mode == "P" and decoded.has_alpha
    rgba = to_eight_bit(decoded.image)
    assert rgba.mode == "RGBA"
    assert rgba.getpixel((0, 0))[3] == 0 and rgba.getpixel((30, 20))[3] == 255


def test_greyscale_with_alpha_is_kept_as_it_is():
    decoded = decode(png_bytes(mode="LA", color=(128, 60)))
    assert decoded.mode == "LA" and decoded.has_alpha
    assert to_eight_bit(decoded.image).getpixel((1, 1)) == (128, 60)


def test_webp_decodes_with_its_alpha():
    decoded = decode(webp_bytes((40, 30), mode="RGBA", color=(10, 200, 30, 90), lossless=True))
    assert decoded.format == "WEBP" and decoded.has_alpha
    assert decoded.image.getpixel((5, 5)) == (10, 200, 30, 90)


def test_an_embedded_profile_is_reported_as_bytes():
    assert decode(png_bytes(icc=srgb_icc())).icc == srgb_icc()
    assert decode(png_bytes()).icc is None


def test_a_large_jpeg_shrinks_on_load_but_reports_its_full_size():
    data = encode_jpeg(pattern_image((1600, 1200)))
    decoded = decode(data, shrink_to=400)
    assert decoded.reduction == 4 and decoded.image.size == (400, 300)
    assert decoded.size == (1600, 1200)
    assert decode(data, shrink_to=1600).reduction == 1


def test_shrink_on_load_keeps_the_long_side_and_leaves_png_alone():
    decoded = decode(jpeg_bytes((1000, 300)), shrink_to=320)
    assert max(decoded.image.size) >= 320 and decoded.reduction == 2
    assert decode(encode_png(pattern_image((1000, 300))), shrink_to=320).reduction == 1


def test_the_pixel_limits_refuse_a_picture_before_decoding_it():
    with pytest.raises(TooManyPixels):
        decode(png_header_only(30_000, 10), limits=PixelLimits())
    with pytest.raises(TooManyPixels):
        decode(png_bytes((100, 60)), limits=PixelLimits(max_pixels=5_000, max_side=200))


def test_pillows_decompression_bomb_warning_is_an_error_only_under_limits():
    # 100 MP passes these generous limits but is over Pillow's own bomb threshold.
    with pytest.raises(TooManyPixels):
        decode(
            png_header_only(10_000, 10_000),
            limits=PixelLimits(max_pixels=10**9, max_side=50_000),
        )


@pytest.mark.parametrize("case", ["bmp", "tiff", "still_gif", "svg", "random_bytes", "zero_byte"])
def test_anything_but_png_jpeg_and_webp_is_a_decode_error(case):
    _name, data = HOSTILE_CASES[case]()
    with pytest.raises(DecodeError):
        decode(data)


def test_truncated_data_is_a_decode_error_not_a_crash():
    with pytest.raises(DecodeError):
        decode(HOSTILE_CASES["truncated_png"]()[1])


# --- libvips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(HOSTILE_CASES["exif_rotated_jpeg"]()[1], id="rotated-jpeg"),
        pytest.param(png_16bit_rgb_bytes((30, 20)), id="16-bit-png"),
        pytest.param(HOSTILE_CASES["cmyk_jpeg"]()[1], id="cmyk-jpeg"),
        pytest.param(HOSTILE_CASES["palette_transparency"]()[1], id="palette"),
        pytest.param(png_bytes(mode="LA"), id="grey-alpha"),
        pytest.param(webp_bytes((40, 30)), id="webp"),
    ],
)
def test_libvips_and_pillow_agree_on_the_upright_size(data):
    header = open_vips(data)
    assert vips_upright_size(header) == decode(data).size
    upright = vips_upright(open_vips(data, random_access=True))
    assert (upright.width, upright.height) == decode(data).size


def test_libvips_turns_a_rotated_jpeg_like_pillow():
    data = _rotated_jpeg()
    vips = vips_upright(open_vips(data, random_access=True)).numpy()
    pillow = np.asarray(decode(data).image.convert("RGB"))
    assert vips.shape == pillow.shape
    assert np.abs(vips.astype(int) - pillow.astype(int)).max() <= 2


def test_libvips_sees_only_the_accepted_formats():
    assert vips_loader(jpeg_bytes()) == "jpegload_buffer"
    with pytest.raises(DecodeError):
        vips_loader(HOSTILE_CASES["still_gif"]()[1])
    with pytest.raises(DecodeError):
        open_vips(HOSTILE_CASES["corrupt_jpeg_body"]()[1]).avg()
