from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from tests.images import (
    EXPECTED,
    HOSTILE_CASES,
    HOSTILE_FILENAME,
    encode_jpeg,
    encode_png,
    jpeg_bytes,
    pattern_image,
    png_bytes,
    png_header_only,
    srgb_icc,
    webp_bytes,
)
from workers.intake import (
    ALLOWED_FORMATS,
    ImageFacts,
    IntakeError,
    IntakeLimits,
    inspect_image,
    sanitize_display_name,
)

ERROR_CODES = {
    "empty",
    "too_large",
    "unsupported_format",
    "corrupt",
    "too_many_pixels",
    "animated",
    "oversized_metadata",
}
REQUIRED_CASES = {
    "zero_byte",
    "truncated_png",
    "truncated_jpeg",
    "text_named_png",
    "svg",
    "huge_dimensions",
    "animated_gif",
    "animated_png",
    "animated_webp",
    "cmyk_jpeg",
    "png_16bit",
    "palette_transparency",
    "exif_rotated_jpeg",
    "long_hostile_name",
}


def rejection(data: bytes, limits: IntakeLimits | None = None) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        inspect_image(data, limits or IntakeLimits())
    return caught.value


def outcome(data: bytes) -> ImageFacts | IntakeError:
    """Whatever inspect_image produces, with any other exception left to fail the test."""
    try:
        return inspect_image(data)
    except IntakeError as error:
        return error


# --- the shared hostile corpus ---------------------------------------------------------------


def test_the_hostile_corpus_covers_every_required_case_and_states_an_expectation_for_each() -> None:
    assert set(HOSTILE_CASES) >= REQUIRED_CASES
    assert set(EXPECTED) == set(HOSTILE_CASES)
    assert set(EXPECTED.values()) <= ERROR_CODES | {"ok"}


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_every_hostile_case_gets_its_expected_result(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    if EXPECTED[case] == "ok":
        assert isinstance(inspect_image(data), ImageFacts)
    else:
        error = rejection(data)
        assert error.code == EXPECTED[case]
        assert error.message.endswith(".")
        assert str(error) == error.message


def test_hostile_case_builders_are_deterministic() -> None:
    for case, build in HOSTILE_CASES.items():
        assert build() == build(), case


# --- rejections and their messages -----------------------------------------------------------


def test_empty_file_is_rejected_as_empty() -> None:
    assert rejection(b"").code == "empty"


def test_oversized_file_is_rejected_with_the_limit_in_megabytes() -> None:
    error = rejection(png_bytes(), IntakeLimits(max_bytes=100))
    assert error.code == "too_large"
    assert "0.0001" not in error.message


def test_too_large_message_names_the_default_limit_of_50_mb() -> None:
    error = rejection(b"x" * (50 * 1024 * 1024 + 1))
    assert error.code == "too_large"
    assert "50 MB" in error.message


def test_file_at_exactly_the_byte_limit_is_accepted() -> None:
    data = png_bytes()
    assert inspect_image(data, IntakeLimits(max_bytes=len(data))).byte_size == len(data)


def test_unrecognised_data_is_rejected_with_a_message_naming_the_accepted_formats() -> None:
    _name, data = HOSTILE_CASES["text_named_png"]()
    error = rejection(data)
    assert error.code == "unsupported_format"
    assert "PNG, JPEG or WebP" in error.message


def test_known_but_unaccepted_format_is_named_in_the_message() -> None:
    _name, data = HOSTILE_CASES["bmp"]()
    error = rejection(data)
    assert error.code == "unsupported_format"
    assert error.message.startswith("BMP images are not accepted")
    assert "PNG, JPEG or WebP" in error.message


def test_animated_gif_is_refused_for_its_format() -> None:
    _name, data = HOSTILE_CASES["animated_gif"]()
    assert "GIF" in rejection(data).message


@pytest.mark.parametrize("case", ["animated_png", "animated_webp"])
def test_animated_images_are_rejected_with_the_stated_policy(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    error = rejection(data)
    assert error.code == "animated"
    assert error.message == (
        "Animated images are not accepted: export a single still frame and upload that."
    )


def test_single_frame_apng_is_treated_as_a_still_png() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "PNG", save_all=True, append_images=[])
    assert inspect_image(buffer.getvalue()).format == "PNG"


@pytest.mark.parametrize("case", ["truncated_png", "truncated_jpeg"])
def test_truncated_files_are_rejected_with_a_clear_message(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    error = rejection(data)
    assert error.code == "corrupt"
    assert error.message == "This file is truncated or corrupt: the image data ends early."


def test_truncation_is_not_silently_tolerated_globally() -> None:
    _name, data = HOSTILE_CASES["truncated_png"]()
    rejection(data)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_file_with_a_png_signature_but_a_broken_header_counts_as_corrupt() -> None:
    data = png_bytes()
    broken = data[:16] + b"\xff" * 8 + data[24:]
    assert rejection(broken).code == "corrupt"


def test_decompression_bomb_is_stopped_from_the_header_without_decoding() -> None:
    _name, data = HOSTILE_CASES["huge_dimensions"]()
    assert len(data) < 200
    error = rejection(data)
    assert error.code == "too_many_pixels"
    assert "80 megapixels" in error.message


def test_pillow_bomb_warning_becomes_a_rejection_and_never_leaks_out() -> None:
    # 100 MP sits between Pillow's warning (~89 MP) and error (~179 MP) thresholds.
    data = png_header_only(10_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = rejection(data, IntakeLimits(max_pixels=150_000_000))
    assert error.code == "too_many_pixels"


def test_pixel_budget_leaves_pillows_global_limit_untouched() -> None:
    before = Image.MAX_IMAGE_PIXELS
    rejection(png_header_only(100_000, 100_000))
    inspect_image(png_bytes())
    assert before == Image.MAX_IMAGE_PIXELS


def test_side_and_pixel_limits_are_configurable() -> None:
    data = png_bytes((64, 48))
    assert rejection(data, IntakeLimits(max_side=63)).code == "too_many_pixels"
    assert rejection(data, IntakeLimits(max_pixels=64 * 48 - 1)).code == "too_many_pixels"
    assert inspect_image(data, IntakeLimits(max_side=64, max_pixels=64 * 48)).width == 64


# --- facts about accepted files --------------------------------------------------------------


def test_png_facts_describe_the_file() -> None:
    data = png_bytes((64, 48))
    facts = inspect_image(data)
    assert facts == ImageFacts(
        format="PNG",
        width=64,
        height=48,
        mode="RGB",
        bit_depth=8,
        has_alpha=False,
        has_icc=False,
        icc_description="",
        exif_orientation=1,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        extension=".png",
        content_type="image/png",
    )


@pytest.mark.parametrize(
    ("data", "fmt", "extension", "content_type"),
    [
        (png_bytes(), "PNG", ".png", "image/png"),
        (jpeg_bytes(), "JPEG", ".jpg", "image/jpeg"),
        (webp_bytes(), "WEBP", ".webp", "image/webp"),
    ],
)
def test_extension_and_content_type_come_from_the_detected_format(
    data: bytes, fmt: str, extension: str, content_type: str
) -> None:
    facts = inspect_image(data)
    assert (facts.format, facts.extension, facts.content_type) == (fmt, extension, content_type)
    assert facts.format in ALLOWED_FORMATS


def test_webp_with_transparency_reports_alpha() -> None:
    facts = inspect_image(webp_bytes(mode="RGBA", color=(10, 20, 30, 100)))
    assert facts.has_alpha
    assert facts.mode == "RGBA"


def test_palette_png_with_a_transparent_index_reports_alpha() -> None:
    _name, data = HOSTILE_CASES["palette_transparency"]()
    facts = inspect_image(data)
    assert facts.mode == "P"
    assert facts.has_alpha


def test_sixteen_bit_rgb_png_reports_its_depth_even_though_pillow_decodes_it_as_rgb() -> None:
    _name, data = HOSTILE_CASES["png_16bit"]()
    facts = inspect_image(data)
    assert facts.bit_depth == 16
    assert facts.mode == "RGB"


def test_sixteen_bit_greyscale_png_reports_its_depth_and_mode() -> None:
    facts = inspect_image(png_bytes(mode="I;16", color=1234))
    assert (facts.mode, facts.bit_depth) == ("I;16", 16)


def test_cmyk_jpeg_is_accepted_with_its_mode() -> None:
    _name, data = HOSTILE_CASES["cmyk_jpeg"]()
    facts = inspect_image(data)
    assert (facts.format, facts.mode) == ("JPEG", "CMYK")


def test_embedded_icc_profile_is_detected_and_described() -> None:
    facts = inspect_image(png_bytes(icc=srgb_icc()))
    assert facts.has_icc
    assert facts.icc_description == "sRGB built-in"


def test_unreadable_icc_profile_is_reported_without_a_description() -> None:
    facts = inspect_image(png_bytes(icc=b"definitely not an ICC profile" * 4))
    assert facts.has_icc
    assert facts.icc_description == ""


def test_exif_rotated_jpeg_reports_the_displayed_width_and_height() -> None:
    _name, data = HOSTILE_CASES["exif_rotated_jpeg"]()
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (64, 48)
    facts = inspect_image(data)
    assert (facts.width, facts.height, facts.exif_orientation) == (48, 64, 6)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_width_and_height_are_swapped_exactly_for_orientations_five_to_eight(
    orientation: int,
) -> None:
    facts = inspect_image(jpeg_bytes((40, 30), exif_orientation=orientation))
    assert facts.exif_orientation == orientation
    expected = (30, 40) if orientation >= 5 else (40, 30)
    assert (facts.width, facts.height) == expected


def test_out_of_range_orientation_is_treated_as_upright() -> None:
    facts = inspect_image(jpeg_bytes((40, 30), exif_orientation=42))
    assert (facts.exif_orientation, facts.width, facts.height) == (1, 40, 30)


def test_multi_picture_jpeg_from_a_phone_is_accepted_as_an_ordinary_jpeg() -> None:
    frames = [pattern_image((40, 30)), pattern_image((20, 15))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:])
    with Image.open(io.BytesIO(buffer.getvalue())) as opened:
        assert opened.format == "MPO"
    facts = inspect_image(buffer.getvalue())
    assert (facts.format, facts.extension, facts.width) == ("JPEG", ".jpg", 40)


def test_file_name_does_not_influence_the_detected_type() -> None:
    _name, data = HOSTILE_CASES["long_hostile_name"]()
    assert inspect_image(data).extension == ".png"
    assert inspect_image(encode_jpeg(pattern_image((20, 20)))).extension == ".jpg"


# --- fuzzing ---------------------------------------------------------------------------------

FUZZ_SEEDS = {
    "png": encode_png(pattern_image((32, 24), "RGBA")),
    "jpeg": encode_jpeg(pattern_image((32, 24)), exif_orientation=6, description="a draft"),
    "webp": webp_bytes((32, 24), mode="RGBA", color=(1, 2, 3, 4)),
    "png16": HOSTILE_CASES["png_16bit"]()[1],
    "apng": HOSTILE_CASES["animated_png"]()[1],
}


def mutate(seed: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(seed)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    return bytes(data)


# Flips are biased towards the first bytes, where headers and chunk lengths live.
flip_positions = st.one_of(st.integers(0, 96), st.integers(0, 1 << 20))
mutations = st.lists(st.tuples(flip_positions, st.integers(1, 255)), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(FUZZ_SEEDS)),
    flips=mutations,
    cut=st.one_of(st.none(), st.integers(0, 1 << 20)),
)
def test_mutated_images_only_ever_raise_intake_errors(
    kind: str, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = mutate(FUZZ_SEEDS[kind], flips, cut)
    result = outcome(data)
    if isinstance(result, IntakeError):
        assert result.code in ERROR_CODES
        assert result.message
    else:
        assert result.format in ALLOWED_FORMATS
        assert 1 <= result.exif_orientation <= 8
        assert result.byte_size == len(data)


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes_only_ever_raise_intake_errors(data: bytes) -> None:
    result = outcome(data)
    assert isinstance(result, ImageFacts) or result.code in ERROR_CODES


# --- display names ---------------------------------------------------------------------------

INVISIBLE = {
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\ufeff",
    "\u2060",
}


def assert_displayable(name: str, max_length: int = 200) -> None:
    assert name
    assert len(name) <= max_length
    assert "/" not in name and "\\" not in name
    assert not INVISIBLE & set(name)
    assert all(unicodedata.category(ch) not in {"Cc", "Cf", "Cs"} for ch in name)
    assert name == name.strip()
    assert not name.startswith(".")
    assert "  " not in name


def test_hostile_upload_name_is_reduced_to_a_safe_display_name() -> None:
    name = sanitize_display_name(HOSTILE_FILENAME)
    assert_displayable(name)
    assert name.endswith(".png")
    assert "🎨" in name
    assert "\x00" not in name and "\u202e" not in name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Desktop\\hero shot.png", "hero shot.png"),
        ("folder/sub/", "sub"),
        ("in\u202evoice\u200b.png", "invoice.png"),
        ("e\u0301clair.png", "\u00e9clair.png"),
        ("  my   draft\t\nv2 .png  ", "my draft v2 .png"),
        ("...hidden.png", "hidden.png"),
        (" . .png", "png"),
        ("bell\x07\x00.jpg", "bell.jpg"),
        # Markup is left for the template layer to escape; only a slash makes it a "path".
        ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
        ("<script>alert(1)</script>.png", "script>.png"),
        ("", "untitled"),
        ("../..", "untitled"),
        ("\u200b\u202e\x00", "untitled"),
    ],
)
def test_display_names_are_cleaned_predictably(raw: str, expected: str) -> None:
    assert sanitize_display_name(raw) == expected


def test_long_names_are_truncated_but_keep_their_extension() -> None:
    name = sanitize_display_name("a" * 300 + ".jpeg")
    assert len(name) == 200
    assert name.endswith(".jpeg")
    short = sanitize_display_name("campaign-hero-final.webp", max_length=12)
    assert short == "campaig.webp"


def test_truncation_to_a_tiny_length_still_returns_something() -> None:
    assert sanitize_display_name("abcdef.png", max_length=3) == "abc"
    assert sanitize_display_name("abcdef.png", max_length=0) == "a"


@settings(max_examples=200, deadline=None)
@given(raw=st.text(), max_length=st.integers(1, 300))
def test_any_name_becomes_displayable_and_stays_stable(raw: str, max_length: int) -> None:
    name = sanitize_display_name(raw, max_length)
    assert_displayable(name, max_length)
    assert sanitize_display_name(name, max_length) == name
