"""workers.imaging.colour: one sRGB profile for every engine, and conversions into it."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import pyvips
from PIL import Image

from tests.images import encode_png, pattern_image, png_bytes, srgb_icc, swapped_primaries_icc
from tests.workers.imaging.builders import cmyk_icc, cmyk_jpeg
from workers.imaging.colour import (
    icc_description,
    pil_to_srgb,
    srgb_profile,
    vips_to_srgb8,
)
from workers.render import PresetSpec, render_channel_versions
from workers.renditions import RenditionSpec, render_renditions
from workers.upscale.imaging import decode_image
from workers.upscale.pipeline import upscale_to_png


def _opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _centre(data: bytes) -> tuple[int, ...]:
    image = _opened(data).convert("RGB")
    return tuple(image.getpixel((image.width // 2, image.height // 2)))  # type: ignore[arg-type]


def test_the_srgb_profile_describes_itself_as_srgb():
    assert "sRGB" in icc_description(srgb_profile())
    assert icc_description(b"not a profile") == ""
    assert icc_description(None) == ""


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG", "PNG"])
def test_previews_embed_the_one_srgb_profile(fmt):
    (rendition,) = render_renditions(cmyk_jpeg(profile=True), (RenditionSpec("t", 32, fmt),))
    assert _opened(rendition.data).info["icc_profile"] == srgb_profile()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "AVIF"])
def test_channel_versions_embed_the_one_srgb_profile(fmt):
    (result,) = render_channel_versions(
        cmyk_jpeg((80, 60), profile=True), [PresetSpec("t", 40, 30, format=fmt)]
    )
    assert result.data is not None
    assert bytes(pyvips.Image.new_from_buffer(result.data, "").get("icc-profile-data")) == (
        srgb_profile()
    )


def test_an_upscaled_cmyk_master_embeds_the_one_srgb_profile():
    data = cmyk_jpeg(profile=True)
    assert decode_image(data).icc == srgb_profile()
    encoded = upscale_to_png(data, model="classical", scale=2)
    assert _opened(encoded.png).info["icc_profile"] == srgb_profile()


def test_the_profile_bytes_are_the_same_in_another_process():
    # Pillow's createProfile("sRGB") stamps the creation time, which made equal previews
    # differ byte for byte between worker processes.
    code = "import sys; from workers.imaging.colour import srgb_profile as p; "
    code += "sys.stdout.buffer.write(p())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert other.stdout == srgb_profile()


def test_a_profiled_cmyk_draft_looks_the_same_in_previews_exports_and_masters():
    data = cmyk_jpeg((80, 60), profile=True)
    (preview,) = render_renditions(data, (RenditionSpec("t", 80, "PNG"),))
    (export,) = render_channel_versions(data, [PresetSpec("t", 80, 60, format="PNG")])
    master = decode_image(data)
    assert export.data is not None
    centre = tuple(int(v) for v in master.colour[30, 40])
    assert np.allclose(_centre(preview.data), centre, atol=4)
    assert np.allclose(_centre(export.data), centre, atol=4)


@pytest.mark.parametrize("broken_profile", [False, True])
def test_an_untagged_cmyk_draft_looks_the_same_in_previews_exports_and_masters(broken_profile):
    # Without a usable profile of its own, CMYK goes through libvips' built-in CMYK profile in
    # both the Pillow and the libvips path (previews once used Pillow's naive arithmetic).
    data = cmyk_jpeg((80, 60), profile=False)
    if broken_profile:
        image = _opened(data)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95, icc_profile=b"not a profile at all" * 8)
        data = buffer.getvalue()
    (preview,) = render_renditions(data, (RenditionSpec("t", 80, "PNG"),))
    (export,) = render_channel_versions(data, [PresetSpec("t", 80, 60, format="PNG")])
    master = decode_image(data)
    assert export.data is not None
    centre = tuple(int(v) for v in master.colour[30, 40])
    naive = _opened(data).convert("RGB").getpixel((40, 30))
    assert np.allclose(_centre(preview.data), centre, atol=4)
    assert np.allclose(_centre(export.data), centre, atol=4)
    assert not np.allclose(centre, naive, atol=4)  # the profile really was applied


def test_a_profiled_cmyk_draft_is_converted_through_its_profile():
    # Through the profile the colours differ from Pillow's naive CMYK-to-RGB arithmetic.
    image = _opened(cmyk_jpeg(profile=True))
    naive = np.asarray(image.convert("RGB"), dtype=int)
    managed = np.asarray(pil_to_srgb(image, cmyk_icc()), dtype=int)
    assert np.abs(managed - naive).mean() > 5


def test_pillow_and_libvips_both_honour_an_embedded_profile():
    # Under the swapped profile, pure red pixels mean sRGB green.
    image = Image.new("RGB", (4, 4), (255, 0, 0))
    red, green, blue = pil_to_srgb(image, swapped_primaries_icc()).getpixel((1, 1))  # type: ignore[misc]
    assert green > 200 and red < 60 and blue < 60
    vips = pyvips.Image.new_from_buffer(encode_png(image), "")
    pixel = vips_to_srgb8(vips, swapped_primaries_icc()).getpoint(1, 1)
    assert pixel[1] > 200 and pixel[0] < 60 and pixel[2] < 60


def test_an_srgb_tagged_image_keeps_its_colours_in_both_paths():
    data = png_bytes(color=(200, 80, 40), icc=srgb_icc())
    pillow = pil_to_srgb(_opened(data), srgb_icc()).getpixel((2, 2))
    assert np.allclose(pillow, (200, 80, 40), atol=2)
    vips = pyvips.Image.new_from_buffer(data, "")
    assert np.allclose(vips_to_srgb8(vips, srgb_icc()).getpoint(2, 2), (200, 80, 40), atol=2)


def test_a_broken_profile_falls_back_to_the_raw_values_in_both_paths():
    broken = b"not a profile at all" * 8
    rgba = Image.new("RGBA", (4, 4), (200, 80, 40, 90))
    assert pil_to_srgb(rgba, broken).getpixel((1, 1)) == (200, 80, 40, 90)
    vips = pyvips.Image.new_from_buffer(encode_png(pattern_image((8, 8))), "")
    assert vips_to_srgb8(vips, broken).getpoint(0, 0) == vips.getpoint(0, 0)
