"""The channel rendering engine, on masters built here and read back with Pillow (an
independent decoder)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw

import workers.render as render
from tests.images import (
    HOSTILE_CASES,
    MARKER_TOP_LEFT,
    encode_jpeg,
    encode_png,
    noisy_image,
    pattern_image,
    png_16bit_rgb_bytes,
    swapped_primaries_icc,
)
from workers.focal import Box, SafeArea, detect_focal
from workers.presets import DEFAULT_PRESETS
from workers.render import (
    PresetSpec,
    RenderError,
    render_channel_versions,
)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def profile_name(image: Image.Image) -> str:
    icc = image.info.get("icc_profile")
    assert icc, "no ICC profile embedded"
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))


def near(pixel, expected, tolerance=40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected, strict=False))


@pytest.fixture(scope="module")
def product_shot() -> tuple[bytes, Box]:
    """A 3600×2400 JPEG with a blue product off to the right, and where it is. Big enough for
    every default preset (the product card needs 2048 px of height)."""
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 6, (2400, 3600, 3))
    pixels = np.full((2400, 3600, 3), (214, 208, 196), np.float32) + noise
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    subject = Box(2600, 800, 600, 800)
    ImageDraw.Draw(image).rounded_rectangle(
        (subject.x, subject.y, subject.right - 1, subject.bottom - 1), 60, fill=(25, 70, 200)
    )
    return encode_jpeg(image, quality=92), subject


def test_every_default_preset_has_its_exact_size_format_and_an_srgb_profile(product_shot):
    data, _ = product_shot
    results = render_channel_versions(data, DEFAULT_PRESETS)
    assert [r.slug for r in results] == [p.slug for p in DEFAULT_PRESETS]
    for preset, result in zip(DEFAULT_PRESETS, results, strict=True):
        assert result.status == "ok", result.warnings
        image = opened(result.data)
        assert image.size == (preset.width, preset.height)
        assert image.format == preset.format
        assert image.mode == "RGB"
        assert "sRGB" in profile_name(image)
        assert "exif" not in image.info  # nothing of the source's metadata leaks out
        assert result.byte_size == len(result.data)
        if preset.max_bytes:
            assert result.byte_size <= preset.max_bytes


def test_the_focal_subject_is_inside_every_rendered_channel_version(product_shot):
    data, subject = product_shot
    focal = detect_focal(data).box
    core = Box(subject.x + 20, subject.y + 20, subject.width - 40, subject.height - 40)
    assert focal.contains(core)
    for result in render_channel_versions(data, DEFAULT_PRESETS, focal=focal):
        assert result.crop.contains(subject), (result.slug, result.crop)
        # And in the pixels: the product's blue centre is where the crop maps it.
        image = opened(result.data).convert("RGB")
        sx, sy = result.width / result.crop.width, result.height / result.crop.height
        cx = (subject.x + subject.width / 2 - result.crop.x) * sx
        cy = (subject.y + subject.height / 2 - result.crop.y) * sy
        assert near(image.getpixel((int(cx), int(cy))), (25, 70, 200)), result.slug


def test_the_vertical_story_keeps_the_subject_out_of_its_top_and_bottom_bands():
    image = Image.new("RGB", (1500, 4000), (230, 230, 230))
    subject = Box(500, 600, 500, 500)
    ImageDraw.Draw(image).ellipse((500, 600, 999, 1099), fill=(200, 30, 30))
    vertical = next(p for p in DEFAULT_PRESETS if p.slug == "vertical")
    (result,) = render_channel_versions(encode_png(image), [vertical], focal=subject)
    top = result.crop.y + 0.14 * result.crop.height
    bottom = result.crop.y + 0.80 * result.crop.height
    assert top <= subject.y and subject.bottom <= bottom
    assert result.warnings == ()


def test_a_per_preset_crop_override_is_used_as_given(product_shot):
    data, _ = product_shot
    square = PresetSpec("square", 400, 400, "PNG")
    (result,) = render_channel_versions(data, [square], {"square": Box(0, 0, 800, 800)})
    assert result.crop == Box(0, 0, 800, 800)
    pixel = opened(result.data).convert("RGB").getpixel((200, 200))
    assert near(pixel, (214, 208, 196), 20)  # the plain backdrop, not the product


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "AVIF"])
def test_alpha_is_kept_where_the_format_has_it(fmt):
    master = encode_png(pattern_image((800, 600), "RGBA"))
    (result,) = render_channel_versions(master, [PresetSpec("s", 400, 300, fmt, quality=90)])
    image = opened(result.data)
    assert image.size == (400, 300)
    assert image.mode in ("RGBA", "RGBa")
    assert image.getchannel("A").getextrema()[0] < 10  # the faded bottom is still transparent
    assert image.getpixel((200, 20))[3] == 255


def test_alpha_is_flattened_onto_the_preset_background_in_jpeg():
    master = encode_png(pattern_image((800, 600), "RGBA"))
    preset = PresetSpec("card", 400, 300, "JPEG", quality=95, background=(255, 0, 255))
    (result,) = render_channel_versions(master, [preset])
    image = opened(result.data)
    assert image.mode == "RGB"
    assert near(image.getpixel((200, 298)), (255, 0, 255), 30)  # transparent → background


def test_transparent_pixels_do_not_darken_the_edges_of_a_cut_out():
    image = Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((250, 250, 749, 749), fill=(255, 255, 255, 255))
    preset = PresetSpec("s", 100, 100, "PNG")
    (result,) = render_channel_versions(encode_png(image), [preset])
    edge = opened(result.data).getpixel((25, 50))  # on the cut-out's soft edge
    assert edge[3] > 0 and min(edge[:3]) > 230  # white fading out, not grey


def test_a_cmyk_master_comes_out_as_srgb_with_its_colours():
    _, data = HOSTILE_CASES["cmyk_jpeg"]()
    (result,) = render_channel_versions(data, [PresetSpec("s", 64, 48, "PNG")])
    image = opened(result.data)
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((1, 1))
    assert red > 180 and green < 80 and blue < 80  # the red marker is still red
    assert "sRGB" in profile_name(image)


def test_a_16_bit_master_keeps_its_whole_range():
    data = png_16bit_rgb_bytes((256, 128))
    (result,) = render_channel_versions(data, [PresetSpec("w", 128, 64, "PNG")])
    image = opened(result.data)
    assert image.mode == "RGB"
    assert image.getpixel((1, 32))[0] < 8  # red ramps from 0 …
    assert image.getpixel((126, 32))[0] > 247  # … to full, not clipped at 1/256
    assert 120 <= image.getpixel((64, 32))[1] <= 136  # green 0x8000 is mid grey


def test_a_16_bit_greyscale_master_is_scaled_not_clipped():
    _, data = HOSTILE_CASES["png_16bit_grey"]()
    (result,) = render_channel_versions(data, [PresetSpec("g", 32, 24, "JPEG", quality=95)])
    assert near(opened(result.data).getpixel((16, 12)), (156, 156, 156), 4)


def test_a_palette_master_with_transparency_keeps_its_alpha_in_png():
    _, data = HOSTILE_CASES["palette_transparency"]()
    (png, jpeg) = render_channel_versions(
        data, [PresetSpec("p", 64, 48, "PNG"), PresetSpec("j", 64, 48, "JPEG", quality=95)]
    )
    png_image = opened(png.data)
    assert png_image.getpixel((2, 2))[3] == 0
    assert near(png_image.getpixel((32, 24)), (220, 40, 40, 255), 10)
    assert near(opened(jpeg.data).getpixel((2, 2)), (255, 255, 255), 10)


def test_an_exif_rotated_master_comes_out_upright():
    _, data = HOSTILE_CASES["exif_rotated_jpeg"]()
    (result,) = render_channel_versions(data, [PresetSpec("u", 48, 64, "PNG")])
    image = opened(result.data)
    assert image.size == (48, 64)
    assert near(image.getpixel((2, 2)), MARKER_TOP_LEFT, 60)
    assert result.crop == Box(0, 0, 48, 64)


def test_an_embedded_icc_profile_is_honoured():
    # Red pixels tagged with a red/green-swapped profile are really green.
    data = encode_png(Image.new("RGB", (64, 64), (255, 0, 0)), icc=swapped_primaries_icc())
    (result,) = render_channel_versions(data, [PresetSpec("c", 32, 32, "PNG")])
    red, green, _ = opened(result.data).getpixel((16, 16))
    assert green > 200 and red < 60


def test_a_master_too_small_for_a_preset_is_reported_and_never_upscaled():
    data = encode_jpeg(pattern_image((800, 600)))
    square, small = PresetSpec("square", 1080, 1080), PresetSpec("small", 300, 300)
    big, ok = render_channel_versions(data, [square, small])
    assert big.status == "too_small" and big.data is None
    assert big.upscale_needed == pytest.approx(1.8)
    assert "×2 would fix it" in big.warnings[-1]
    assert ok.status == "ok" and opened(ok.data).size == (300, 300)


def test_quality_is_stepped_down_to_meet_the_byte_limit():
    data = encode_png(noisy_image((1200, 900)))
    free = render_channel_versions(data, [PresetSpec("f", 800, 600, "JPEG", quality=92)])[0]
    limit = free.byte_size // 2
    (capped,) = render_channel_versions(
        data, [PresetSpec("c", 800, 600, "JPEG", quality=92, max_bytes=limit)]
    )
    assert capped.status == "ok"
    assert capped.byte_size <= limit
    assert capped.quality is not None and capped.quality < 92


def test_a_byte_limit_that_cannot_be_met_is_reported():
    data = encode_png(noisy_image((600, 400)))
    (result,) = render_channel_versions(
        data, [PresetSpec("c", 600, 400, "JPEG", quality=90, max_bytes=2_000)]
    )
    assert result.status == "over_max_bytes"
    assert result.data is not None and result.byte_size > 2_000
    assert "Over the 2,000 byte limit" in result.warnings[-1]


def test_a_decoded_image_in_memory_renders_like_its_file():
    image = pattern_image((900, 600))
    presets = [PresetSpec("a", 300, 300, "PNG"), PresetSpec("b", 450, 250, "PNG")]
    from_file = render_channel_versions(encode_png(image), presets)
    from_memory = render_channel_versions(image, presets)
    for a, b in zip(from_file, from_memory, strict=True):
        assert a.crop == b.crop
        diff = np.abs(np.asarray(opened(a.data), np.int16) - np.asarray(opened(b.data), np.int16))
        assert diff.max() <= 1


def test_one_decode_serves_every_preset(mocker):
    spy = mocker.spy(render, "_load")
    render_channel_versions(encode_png(pattern_image((1200, 800))), DEFAULT_PRESETS[:4])
    assert spy.call_count == 1


def test_jpeg_masters_shrink_on_load_when_every_preset_allows(mocker):
    spy = mocker.spy(render, "_load")
    data = encode_jpeg(pattern_image((4000, 3000)))
    (result,) = render_channel_versions(data, [PresetSpec("t", 400, 300)])
    assert [call.kwargs.get("shrink") for call in spy.call_args_list] == [1, 4]
    assert opened(result.data).size == (400, 300)


def test_the_two_step_resample_matches_a_direct_lanczos_resize():
    import pyvips

    image = pattern_image((3000, 2000))
    ImageDraw.Draw(image).text((1300, 900), "FJELL", fill=(255, 255, 255))
    data = encode_png(image)
    presets = [PresetSpec("big", 1500, 1000, "PNG"), PresetSpec("small", 600, 400, "PNG")]
    small = render_channel_versions(data, presets)[1]
    direct = pyvips.Image.new_from_buffer(data, "").resize(0.2, kernel="lanczos3")
    expected = np.ndarray(
        buffer=direct.write_to_memory(), dtype=np.uint8, shape=(400, 600, 3)
    ).astype(np.float64)
    got = np.asarray(opened(small.data).convert("RGB"), dtype=np.float64)
    psnr = 10 * np.log10(255**2 / max(1e-9, float(((got - expected) ** 2).mean())))
    assert psnr > 40


def test_the_spec_hash_follows_only_what_changes_the_output():
    base = PresetSpec("a", 100, 100)
    assert base.spec_hash() == PresetSpec("renamed", 100, 100).spec_hash()
    assert base.spec_hash() == PresetSpec("a", 100, 100, safe_area=SafeArea(top=0.1)).spec_hash()
    assert base.spec_hash() != PresetSpec("a", 100, 100, quality=80).spec_hash()
    assert base.spec_hash() != PresetSpec("a", 100, 100, background=(0, 0, 0)).spec_hash()


@pytest.mark.parametrize("name", ["truncated_png", "random_bytes", "svg"])
def test_a_master_that_cannot_be_decoded_raises_a_clear_error(name):
    _, data = HOSTILE_CASES[name]()
    with pytest.raises(RenderError):
        render_channel_versions(data, [PresetSpec("s", 16, 16)])


def test_bad_presets_are_refused():
    with pytest.raises(RenderError):
        PresetSpec("x", 100, 100, "GIF")
    with pytest.raises(RenderError):
        PresetSpec("x", 0, 100)
