"""In-memory image builders shared by the worker and Django test suites.

Nothing here touches the disk or the network; every file is generated from code so that odd and
hostile inputs stay reviewable.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable

from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

Color = int | float | tuple[int, ...] | str | None

# Marker colours painted into the corners of pattern_image; together they pin down the
# orientation, since no rotation or flip maps the red/green pair onto itself.
MARKER_TOP_LEFT = (255, 0, 0)
MARKER_TOP_RIGHT = (0, 255, 0)

_DEFAULT_COLORS: dict[str, Color] = {
    "RGB": (200, 80, 40),
    "RGBA": (200, 80, 40, 160),
    "L": 128,
    "LA": (128, 160),
    "P": 1,
    "CMYK": (0, 153, 204, 40),
    "I;16": 32768,
    "I": 32768,
    "1": 1,
}


def png_bytes(
    size: tuple[int, int] = (64, 48),
    mode: str = "RGB",
    color: Color = None,
    text: dict[str, str] | None = None,
    icc: bytes | None = None,
) -> bytes:
    """A flat-colour PNG; ``text`` becomes tEXt chunks (iTXt when not Latin-1)."""
    image = Image.new(mode, size, _default_color(mode, color))
    return encode_png(image, text=text, icc=icc)


def jpeg_bytes(
    size: tuple[int, int] = (64, 48),
    mode: str = "RGB",
    color: Color = None,
    exif_orientation: int | None = None,
    quality: int = 90,
    user_comment: str | bytes | None = None,
    description: str | None = None,
) -> bytes:
    """A flat-colour JPEG with optional EXIF.

    A ``str`` user comment is written the way A1111 writes it (``UNICODE`` header, UTF-16BE);
    ``bytes`` are written as is, header included, to test other charsets.
    """
    image = Image.new(mode, size, _default_color(mode, color))
    return encode_jpeg(
        image,
        quality=quality,
        exif_orientation=exif_orientation,
        user_comment=user_comment,
        description=description,
    )


def webp_bytes(
    size: tuple[int, int] = (64, 48),
    mode: str = "RGB",
    color: Color = None,
    lossless: bool = False,
) -> bytes:
    image = Image.new(mode, size, _default_color(mode, color))
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=90, lossless=lossless)
    return buffer.getvalue()


def pattern_image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A non-flat test card: red rises left to right, green top to bottom, a blue disc in the
    middle, a red marker top-left and a green marker top-right.

    In ``RGBA`` the bottom quarter fades to fully transparent; ``I;16`` spans the 16-bit range.
    """
    width, height = size
    red = Image.linear_gradient("L").rotate(90).resize(size)
    green = Image.linear_gradient("L").resize(size)
    blue = Image.new("L", size, 96)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    radius = max(2, min(width, height) // 5)
    cx, cy = width // 2, height // 2
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(30, 60, 230))
    marker = max(3, min(width, height) // 5)
    draw.rectangle((0, 0, marker - 1, marker - 1), fill=MARKER_TOP_LEFT)
    draw.rectangle((width - marker, 0, width - 1, marker - 1), fill=MARKER_TOP_RIGHT)

    if mode == "RGB":
        return image
    if mode == "RGBA":
        alpha = Image.new("L", size, 255)
        band_top = height - max(1, height // 4)
        fade = Image.linear_gradient("L").transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        alpha.paste(fade.resize((width, height - band_top)), (0, band_top))
        image.putalpha(alpha)
        return image
    if mode in ("I;16", "I"):
        grey = image.convert("L")
        return grey.convert("I").point(lambda value: value * 257).convert(mode)
    if mode == "P":
        return image.quantize(64)
    return image.convert(mode)


def encode_png(
    image: Image.Image, text: dict[str, str] | None = None, icc: bytes | None = None
) -> bytes:
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    options: dict[str, object] = {"pnginfo": info}
    if icc is not None:
        options["icc_profile"] = icc
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def encode_jpeg(
    image: Image.Image,
    quality: int = 90,
    exif_orientation: int | None = None,
    user_comment: str | bytes | None = None,
    description: str | None = None,
    icc: bytes | None = None,
) -> bytes:
    exif = Image.Exif()
    if exif_orientation is not None:
        exif[0x0112] = exif_orientation
    if description is not None:
        # Stored as UTF-8 bytes, as most writers do, although the tag is nominally ASCII.
        exif[0x010E] = description.encode("utf-8")
    if user_comment is not None:
        exif.get_ifd(0x8769)[0x9286] = (
            user_comment_bytes(user_comment) if isinstance(user_comment, str) else user_comment
        )
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": quality}
    # len(exif) only counts the main IFD, so a lone UserComment would be silently dropped.
    if exif_orientation is not None or description is not None or user_comment is not None:
        options["exif"] = exif.tobytes()
    if icc is not None:
        options["icc_profile"] = icc
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def user_comment_bytes(text: str, charset: str = "unicode-be") -> bytes:
    """An EXIF UserComment payload: ``unicode-be``, ``unicode-le``, ``ascii`` or ``undefined``."""
    if charset == "unicode-be":
        return b"UNICODE\x00" + text.encode("utf-16-be")
    if charset == "unicode-le":
        return b"UNICODE\x00" + text.encode("utf-16-le")
    if charset == "ascii":
        return b"ASCII\x00\x00\x00" + text.encode("ascii")
    if charset == "undefined":
        return b"\x00" * 8 + text.encode("utf-8")
    raise ValueError(f"unknown charset {charset!r}")


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def swapped_primaries_icc() -> bytes:
    """The sRGB profile with its red and green primaries exchanged.

    A pure red pixel tagged with this profile really means sRGB green, so a converter that
    honours embedded profiles turns it green and one that ignores them leaves it red.
    """
    profile = bytearray(srgb_icc())
    (tag_count,) = struct.unpack(">I", profile[128:132])
    entries = {}
    for index in range(tag_count):
        offset = 132 + 12 * index
        signature = bytes(profile[offset : offset + 4])
        entries[signature] = offset
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    red_target = bytes(profile[red + 4 : red + 12])
    profile[red + 4 : red + 12] = profile[green + 4 : green + 12]
    profile[green + 4 : green + 12] = red_target
    # Profile ID (MD5) must be zeroed once the content changes, or LittleCMS may distrust it.
    profile[84:100] = bytes(16)
    return bytes(profile)


def png_chunk(chunk_type: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + chunk_type
        + body
        + struct.pack(">I", zlib.crc32(chunk_type + body) & 0xFFFFFFFF)
    )


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG that declares ``width`` x ``height`` but carries only a token IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 256)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def png_16bit_rgb_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    """A genuine 16-bit-per-channel RGB PNG (Pillow can read these but not write them).

    Red ramps 0..65535 left to right, green is fixed at 0x8000, blue ramps top to bottom.
    """
    width, height = size
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        blue = round(65535 * y / max(1, height - 1))
        for x in range(width):
            red = round(65535 * x / max(1, width - 1))
            rows += struct.pack(">HHH", red, 0x8000, blue)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(bytes(rows)))
        + png_chunk(b"IEND", b"")
    )


def noisy_image(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Incompressible content, so that truncating the encoded file really cuts image data."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


# --- hostile and odd uploads -----------------------------------------------------------------


def _zero_byte() -> tuple[str, bytes]:
    return "empty.png", b""


def _truncated_png() -> tuple[str, bytes]:
    data = encode_png(noisy_image((64, 48)))
    return "cut-short.png", data[: len(data) * 2 // 3]


def _truncated_jpeg() -> tuple[str, bytes]:
    data = encode_jpeg(noisy_image((64, 48)))
    return "cut-short.jpg", data[: len(data) * 2 // 3]


def _text_named_png() -> tuple[str, bytes]:
    return "notes.png", b"Meeting notes\nThis is plain text that was renamed to .png\n"


def _svg() -> tuple[str, bytes]:
    svg = (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" '
        b'height="48"><script>alert(1)</script><rect width="64" height="48" fill="red"/></svg>'
    )
    return "logo.svg", svg


def _html() -> tuple[str, bytes]:
    return "draft.png", b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"


def _random_bytes() -> tuple[str, bytes]:
    return "noise.webp", random.Random(3).randbytes(2048)


def _huge_dimensions() -> tuple[str, bytes]:
    return "bomb.png", png_header_only(100_000, 100_000)


def _just_over_pixel_budget() -> tuple[str, bytes]:
    # 81 megapixels: over the 80 MP intake budget yet under Pillow's own bomb warning (~89 MP),
    # so only the intake's own check can catch it.
    return "big.png", png_header_only(9_000, 9_000)


def _too_wide() -> tuple[str, bytes]:
    return "banner.png", png_header_only(25_000, 10)


def _corrupt_jpeg_body() -> tuple[str, bytes]:
    return "broken.jpg", b"\xff\xd8\xff\xe0" + random.Random(5).randbytes(512)


def _animated_gif() -> tuple[str, bytes]:
    return "spinner.gif", _animation("GIF")


def _animated_png() -> tuple[str, bytes]:
    return "spinner.png", _animation("PNG")


def _animated_webp() -> tuple[str, bytes]:
    return "spinner.webp", _animation("WEBP")


def _animation(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _still_gif() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("P", (32, 32), 3).save(buffer, "GIF")
    return "still.gif", buffer.getvalue()


def _bmp() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "orange").save(buffer, "BMP")
    return "scan.bmp", buffer.getvalue()


def _tiff() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "orange").save(buffer, "TIFF")
    return "print.tif", buffer.getvalue()


def _cmyk_jpeg() -> tuple[str, bytes]:
    return "print-ready.jpg", encode_jpeg(pattern_image((64, 48)).convert("CMYK"))


def _png_16bit() -> tuple[str, bytes]:
    return "deep.png", png_16bit_rgb_bytes((64, 48))


def _png_16bit_grey() -> tuple[str, bytes]:
    return "deep-grey.png", png_bytes(mode="I;16", color=40000)


def _palette_transparency() -> tuple[str, bytes]:
    image = Image.new("P", (64, 48), 0)
    image.putpalette([0, 0, 0, 220, 40, 40, 40, 40, 220] + [0] * (253 * 3))
    ImageDraw.Draw(image).rectangle((16, 12, 47, 35), fill=1)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    return "sticker.png", buffer.getvalue()


def _exif_rotated_jpeg() -> tuple[str, bytes]:
    # Drawn upright at 48x64, then stored turned so that only honouring orientation 6 (rotate
    # 90 degrees clockwise to display) puts the red marker back in the top-left corner.
    upright = pattern_image((48, 64))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    return "phone.jpg", encode_jpeg(stored, exif_orientation=6, quality=95)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_chunk(png: bytes, chunk: bytes) -> bytes:
    return png[:33] + chunk + png[33:]  # right after IHDR (8-byte signature + 25-byte IHDR)


def _broken_icc_png() -> tuple[str, bytes]:
    junk = zlib.compress(b"this is not an ICC profile " * 20)
    chunk = _png_chunk(b"iCCP", b"Broken profile\x00\x00" + junk)
    return "broken-profile.png", _with_chunk(encode_png(pattern_image((64, 48))), chunk)


def _broken_icc_jpeg() -> tuple[str, bytes]:
    return "broken-profile.jpg", encode_jpeg(pattern_image((64, 48)), icc=bytes(300))


def _ztxt_bomb() -> tuple[str, bytes]:
    # 64 KB on disk, 64 MB of text once inflated.
    bomb = zlib.compress(b"A" * 64_000_000, 9)
    chunk = _png_chunk(b"zTXt", b"parameters\x00\x00" + bomb)
    return "metadata-bomb.png", _with_chunk(encode_png(pattern_image((64, 48))), chunk)


def _itxt_bomb() -> tuple[str, bytes]:
    bomb = zlib.compress(("B" * 64_000_000).encode(), 9)
    chunk = _png_chunk(b"iTXt", b"prompt\x00\x01\x00\x00\x00" + bomb)
    return "metadata-bomb-2.png", _with_chunk(encode_png(pattern_image((64, 48))), chunk)


def _huge_text_chunk() -> tuple[str, bytes]:
    # A 6 MB uncompressed "parameters" text: the image is fine, the prompt is capped.
    text = "a prompt that never ends, " * 240_000
    chunk = _png_chunk(b"tEXt", b"parameters\x00" + text.encode("latin-1"))
    return "chatty.png", _with_chunk(encode_png(pattern_image((64, 48))), chunk)


def _frame_bomb(fmt: str) -> bytes:
    frames = [Image.new("RGB", (8, 8), (i % 256, i // 256, 0)) for i in range(3000)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=10)
    return buffer.getvalue()


def _apng_frame_bomb() -> tuple[str, bytes]:
    return "frames.png", _frame_bomb("PNG")


def _webp_frame_bomb() -> tuple[str, bytes]:
    return "frames.webp", _frame_bomb("WEBP")


HOSTILE_FILENAME = (
    "../../../etc/passwd/"
    + "..\\..\\windows\\"
    + "\x00<script>alert('x')</script>"
    + "\u202egnp.exe"
    + "\u200b\ufeff"
    + "🎨🥤🏔️ Fjell draft "
    + "x" * 400
    + ".png"
)


def _long_hostile_name() -> tuple[str, bytes]:
    return HOSTILE_FILENAME, png_bytes()


HOSTILE_CASES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "zero_byte": _zero_byte,
    "truncated_png": _truncated_png,
    "truncated_jpeg": _truncated_jpeg,
    "text_named_png": _text_named_png,
    "svg": _svg,
    "html": _html,
    "random_bytes": _random_bytes,
    "huge_dimensions": _huge_dimensions,
    "just_over_pixel_budget": _just_over_pixel_budget,
    "too_wide": _too_wide,
    "corrupt_jpeg_body": _corrupt_jpeg_body,
    "animated_gif": _animated_gif,
    "animated_png": _animated_png,
    "animated_webp": _animated_webp,
    "still_gif": _still_gif,
    "bmp": _bmp,
    "tiff": _tiff,
    "cmyk_jpeg": _cmyk_jpeg,
    "png_16bit": _png_16bit,
    "png_16bit_grey": _png_16bit_grey,
    "palette_transparency": _palette_transparency,
    "exif_rotated_jpeg": _exif_rotated_jpeg,
    "long_hostile_name": _long_hostile_name,
    "broken_icc_png": _broken_icc_png,
    "broken_icc_jpeg": _broken_icc_jpeg,
    "ztxt_bomb": _ztxt_bomb,
    "itxt_bomb": _itxt_bomb,
    "huge_text_chunk": _huge_text_chunk,
    "apng_frame_bomb": _apng_frame_bomb,
    "webp_frame_bomb": _webp_frame_bomb,
}

EXPECTED: dict[str, str] = {
    "zero_byte": "empty",
    "truncated_png": "corrupt",
    "truncated_jpeg": "corrupt",
    "text_named_png": "unsupported_format",
    "svg": "unsupported_format",
    "html": "unsupported_format",
    "random_bytes": "unsupported_format",
    "huge_dimensions": "too_many_pixels",
    "just_over_pixel_budget": "too_many_pixels",
    "too_wide": "too_many_pixels",
    "corrupt_jpeg_body": "corrupt",
    # The format check comes first, so an animated GIF is refused as a GIF.
    "animated_gif": "unsupported_format",
    "animated_png": "animated",
    "animated_webp": "animated",
    "still_gif": "unsupported_format",
    "bmp": "unsupported_format",
    "tiff": "unsupported_format",
    "cmyk_jpeg": "ok",
    "png_16bit": "ok",
    "png_16bit_grey": "ok",
    "palette_transparency": "ok",
    "exif_rotated_jpeg": "ok",
    "long_hostile_name": "ok",
    # An unreadable colour profile is ignored (colours taken as sRGB), not a reason to refuse.
    "broken_icc_png": "ok",
    "broken_icc_jpeg": "ok",
    "ztxt_bomb": "oversized_metadata",
    "itxt_bomb": "oversized_metadata",
    "huge_text_chunk": "ok",
    "apng_frame_bomb": "animated",
    "webp_frame_bomb": "animated",
}


def _default_color(mode: str, color: Color) -> Color:
    if color is not None:
        return color
    return _DEFAULT_COLORS.get(mode, 0)
