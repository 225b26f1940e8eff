"""The streaming PNG writer and the upscaler's decoding decisions (no torch needed)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.images import (
    encode_jpeg,
    encode_png,
    pattern_image,
    png_16bit_rgb_bytes,
    srgb_icc,
    swapped_primaries_icc,
)
from workers.upscale import pngstream
from workers.upscale.imaging import classical_upscale, decode_image
from workers.upscale.pngstream import PngStreamWriter
from workers.upscale.pngstream import encode_png as stream_png


@pytest.mark.parametrize("deflate", pngstream.DEFLATE_BACKENDS)
@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((97, 61, 3), np.uint8),
        ((40, 33, 4), np.uint8),
        ((50, 31), np.uint8),
        ((30, 20, 2), np.uint8),
        ((45, 28), np.uint16),
    ],
)
def test_streamed_png_decodes_to_exactly_the_pixels_given(shape, dtype, deflate):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    data = stream_png(pixels, strip_rows=7, deflate=deflate)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        decoded = np.asarray(im)
    assert np.array_equal(decoded.astype(np.int64), pixels.astype(np.int64))


def test_sixteen_bit_rgb_png_keeps_every_bit():
    cv2 = pytest.importorskip("cv2")
    pixels = np.random.default_rng(2).integers(0, 65536, (33, 21, 3)).astype(np.uint16)
    data = stream_png(pixels, strip_rows=5)
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    assert np.array_equal(back, pixels)


def test_isal_deflate_is_installed_and_the_default():
    # A dependency of the project: without it masters still encode, but far slower (zlib).
    assert pngstream.DEFAULT_DEFLATE == "isal"
    assert PngStreamWriter(4, 4, 3).deflate == "isal"


@pytest.mark.parametrize("level", [0, 1, 2, 3, 6, 9])
def test_every_level_writes_a_valid_png_with_either_deflate(level):
    smooth = np.asarray(pattern_image((300, 200)).resize((600, 400)))
    for deflate in pngstream.DEFLATE_BACKENDS:
        data = stream_png(smooth, level=level, deflate=deflate, strip_rows=64)
        with Image.open(io.BytesIO(data)) as im:
            assert np.array_equal(np.asarray(im), smooth)
        if level:
            assert len(data) < smooth.nbytes / 2, (deflate, level)


def test_a_missing_or_unknown_deflate_is_refused_with_its_name(monkeypatch):
    with pytest.raises(ValueError, match="unknown deflate backend 'brotli'"):
        PngStreamWriter(4, 4, 3, deflate="brotli")
    monkeypatch.setattr(pngstream, "_isal_zlib", None)
    with pytest.raises(ValueError, match="isal package is not installed"):
        PngStreamWriter(4, 4, 3, deflate="isal")
    assert PngStreamWriter(4, 4, 3, deflate="zlib").deflate == "zlib"


def test_strips_fetched_later_join_into_one_valid_image():
    pixels = np.arange(24 * 10 * 3, dtype=np.uint8).reshape(24, 10, 3)
    writer = PngStreamWriter(10, 24, 3)
    for y in range(0, 24, 8):
        writer.add_strip(8, lambda y=y: (pixels[y : y + 8], pixels[y - 1] if y else None))
    with Image.open(io.BytesIO(writer.finish())) as im:
        assert np.array_equal(np.asarray(im), pixels)


def test_a_tall_strip_is_compressed_as_parts_side_by_side_from_one_fetch(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(pngstream, "PART_BYTES", 40 * 30 * 3 * 2)  # 30 rows of 40 RGB16 pixels
    pixels = np.random.default_rng(4).integers(0, 65536, (100, 40, 3)).astype(np.uint16)
    fetched = []

    def fetch(y0, y1):
        fetched.append((y0, y1))
        return pixels[y0:y1], pixels[y0 - 1] if y0 else None

    class CountingPool(ThreadPoolExecutor):
        submitted = 0

        def submit(self, *args, **kwargs):
            CountingPool.submitted += 1
            return super().submit(*args, **kwargs)

    with CountingPool(4) as pool:
        writer = PngStreamWriter(40, 100, 3, bit_depth=16, pool=pool)
        writer.add_strip(70, lambda: fetch(0, 70))  # a row of GPU tiles: 3 parts
        writer.add_strip(30, lambda: fetch(70, 100))  # 1 part
        data = writer.finish()
    assert CountingPool.submitted == 4 and sorted(fetched) == [(0, 70), (70, 100)]
    cv2 = pytest.importorskip("cv2")
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    assert np.array_equal(back, pixels)


def test_a_fetch_that_fails_fails_the_image_once_for_all_its_parts(monkeypatch):
    monkeypatch.setattr(pngstream, "PART_BYTES", 10 * 3)
    calls = []

    def broken():
        calls.append(1)
        raise OSError("device copy failed")

    writer = PngStreamWriter(10, 40, 3)
    writer.add_strip(40, broken)
    with pytest.raises(OSError, match="device copy failed"):
        writer.finish()
    assert calls == [1]


def test_embedded_icc_profile_is_written():
    data = stream_png(np.zeros((4, 4, 3), np.uint8), icc_profile=srgb_icc())
    with Image.open(io.BytesIO(data)) as im:
        assert im.info["icc_profile"] == srgb_icc()


def test_writer_refuses_a_short_image():
    writer = PngStreamWriter(4, 4, 3)
    writer.add_rows(np.zeros((2, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="only 2 of 4 rows"):
        writer.finish()


def test_exif_orientation_is_applied_so_the_master_is_upright():
    image = pattern_image((60, 40))
    decoded = decode_image(encode_jpeg(image, exif_orientation=6, quality=95))
    assert decoded.size == (40, 60)
    # Orientation 6 means "rotate 90° clockwise to view": the red top-left marker ends top-right.
    top_right = decoded.colour[2, -3].astype(int)
    assert top_right[0] > 180 and top_right[1] < 80
    assert "EXIF orientation 6 applied" in decoded.notes


def test_greyscale_alpha_and_sixteen_bit_are_kept_on_purpose():
    grey = decode_image(encode_png(pattern_image((20, 10), "L")))
    assert grey.grey and grey.alpha is None and grey.bit_depth == 8
    rgba = decode_image(encode_png(pattern_image((20, 16), "RGBA")))
    assert not rgba.grey and rgba.alpha is not None and rgba.alpha.min() < 64
    deep = decode_image(encode_png(pattern_image((20, 10), "I;16")))
    assert deep.grey and deep.bit_depth == 16 and int(deep.colour.max()) > 255


def test_sixteen_bit_rgb_is_read_at_full_depth_when_opencv_is_there():
    pytest.importorskip("cv2")
    decoded = decode_image(png_16bit_rgb_bytes((64, 48)))
    assert decoded.bit_depth == 16
    assert decoded.colour[0, -1, 0] == 65535 and decoded.colour[0, 0, 1] == 0x8000


def test_icc_profile_is_carried_over_unchanged():
    icc = swapped_primaries_icc()
    decoded = decode_image(encode_png(pattern_image((16, 16)), icc=icc))
    assert decoded.icc == icc


def test_opaque_alpha_is_dropped_and_cmyk_becomes_srgb():
    opaque = decode_image(encode_png(Image.new("RGBA", (8, 8), (1, 2, 3, 255))))
    assert opaque.alpha is None
    cmyk = decode_image(encode_jpeg(Image.new("CMYK", (8, 8), (0, 255, 255, 0))))
    assert cmyk.colour.shape == (8, 8, 3) and cmyk.colour[4, 4, 0] > 200
    assert cmyk.icc is not None and "CMYK converted to sRGB" in cmyk.notes[0]


def test_classical_upscale_reaches_the_size_and_keeps_colours():
    source = np.asarray(pattern_image((40, 30)))
    out = classical_upscale(source, (100, 75))
    assert out.shape == (75, 100, 3) and out.dtype == np.uint8
    back = np.asarray(Image.fromarray(out).resize((40, 30), Image.Resampling.BOX)).astype(float)
    assert np.abs(back - source.astype(float)).mean() < 6


def test_eight_and_sixteen_bit_drafts_are_sharpened_alike_by_the_classical_upscaler():
    # 8-bit goes through Pillow's UnsharpMask, 16-bit through numpy: the same Lanczos and
    # the same unsharp mask (sigma 1, 60 %), so the two agree to within rounding, except at a
    # few hard edges where Pillow's 8-bit Lanczos clamps between its two passes (measured:
    # 99th percentile 1 level, mean 0.08; the resize alone differs by up to 18 levels there).
    eight = np.asarray(pattern_image((60, 44)))
    sixteen = eight.astype(np.uint16) * 257
    sharp8 = classical_upscale(eight, (180, 132)).astype(int)
    sharp16 = (classical_upscale(sixteen, (180, 132)).astype(float) / 257).round().astype(int)
    plain = classical_upscale(eight, (180, 132), amount=0.0).astype(int)
    differs = np.abs(sharp8 - sharp16)
    assert np.percentile(differs, 99) <= 1 and differs.mean() < 0.2

    def edge_energy(pixels: np.ndarray) -> float:
        return float(
            np.abs(np.diff(pixels, 2, axis=0)).mean() + np.abs(np.diff(pixels, 2, axis=1)).mean()
        )

    assert edge_energy(sharp8) > 1.1 * edge_energy(plain), "the mask really sharpens"
