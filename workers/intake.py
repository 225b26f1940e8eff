"""Validation of a single uploaded image file.

Everything here is framework-free: the web layer hands over raw bytes and gets back either
:class:`ImageFacts` or an :class:`IntakeError` whose message can be shown to the uploader as is.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

from workers.imaging.colour import icc_description
from workers.imaging.containers import sniff_format
from workers.imaging.decode import (
    ACCEPTED_FORMATS,
    PixelLimits,
    TooManyPixels,
    bit_depth,
    decoding,
    exif_orientation,
    format_of,
    has_alpha,
    icc_of,
    open_bounded,
    upright_size,
)

ALLOWED_FORMATS = ACCEPTED_FORMATS

_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

_ACCEPTED_LIST = "PNG, JPEG or WebP"

# Every exception type the Pillow decoders are known to raise on malformed data.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    struct.error,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    RecursionError,
)


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 80_000_000
    max_side: int = 20_000


class IntakeError(Exception):
    """A rejected upload: ``code`` is a stable slug, ``message`` is for the uploader."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"IntakeError(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True)
class ImageFacts:
    format: str
    width: int
    height: int
    mode: str
    bit_depth: int
    has_alpha: bool
    has_icc: bool
    icc_description: str
    exif_orientation: int
    byte_size: int
    sha256: str
    extension: str
    content_type: str


def inspect_image(data: bytes, limits: IntakeLimits = IntakeLimits()) -> ImageFacts:
    """Validate ``data`` as an uploadable still image and describe it.

    Raises :class:`IntakeError` and nothing else, whatever the bytes are.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    try:
        return _inspect(data, limits)
    except IntakeError:
        raise
    except Exception as exc:  # hostile input must never escape as a 500
        raise _corrupt(exc) from exc


def _inspect(data: bytes, limits: IntakeLimits) -> ImageFacts:
    if not data:
        raise IntakeError("empty", "This file is empty: it contains no data at all.")
    if len(data) > limits.max_bytes:
        raise IntakeError(
            "too_large",
            f"This file is too large: the limit is {_format_mb(limits.max_bytes)} MB per image.",
        )
    pixel_limits = PixelLimits(max_pixels=limits.max_pixels, max_side=limits.max_side)
    # A decompression bomb stops the upload as TooManyPixels, wherever Pillow notices it.
    try:
        with decoding(pixel_limits):
            im = _open(data, pixel_limits)
            with im:
                return _describe(im, data)
    except TooManyPixels as exc:
        raise _too_many_pixels(limits) from exc


def _open(data: bytes, limits: PixelLimits) -> ImageFile.ImageFile:
    try:
        # Only the parsers for the formats we accept ever see hostile bytes; the wider second
        # look below exists only to name a rejected format in the message.
        return open_bounded(data, limits=limits, formats=ALLOWED_FORMATS)
    except TooManyPixels:
        raise
    except UnidentifiedImageError as exc:
        if sniff_format(data) is not None:
            raise _corrupt() from exc
        other = _identify_other_format(data)
        if other:
            raise IntakeError(
                "unsupported_format",
                f"{other} images are not accepted: please upload a {_ACCEPTED_LIST} file.",
            ) from exc
        raise IntakeError(
            "unsupported_format",
            f"This file is not a recognised image: please upload a {_ACCEPTED_LIST} file.",
        ) from exc
    except _DECODE_ERRORS as exc:
        raise _corrupt(exc) from exc


def _describe(im: ImageFile.ImageFile, data: bytes) -> ImageFacts:
    fmt = format_of(im)
    if fmt not in ALLOWED_FORMATS:
        raise IntakeError(
            "unsupported_format",
            f"{fmt or 'This'} images are not accepted: please upload a {_ACCEPTED_LIST} file.",
        )

    if im.format != "MPO" and (getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1):
        raise IntakeError(
            "animated",
            "Animated images are not accepted: export a single still frame and upload that.",
        )

    try:
        im.load()
    except _DECODE_ERRORS as exc:
        raise _corrupt(exc) from exc

    # Read after load(): PNG keeps eXIf and text chunks that follow the image data until then.
    orientation = exif_orientation(im)
    width, height = upright_size(im.size, orientation)
    icc = icc_of(im)
    return ImageFacts(
        format=fmt,
        width=width,
        height=height,
        mode=im.mode,
        bit_depth=bit_depth(im, data),
        has_alpha=has_alpha(im),
        has_icc=icc is not None,
        icc_description=icc_description(icc),
        exif_orientation=orientation,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        extension=_EXTENSIONS[fmt],
        content_type=_CONTENT_TYPES[fmt],
    )


def _identify_other_format(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as other:
            return str(other.format or "")
    except Exception:  # naming the format is best effort only
        return ""


def _format_mb(num_bytes: int) -> str:
    megabytes = num_bytes / (1024 * 1024)
    return f"{megabytes:.0f}" if megabytes >= 10 or megabytes.is_integer() else f"{megabytes:.1f}"


def _too_many_pixels(limits: IntakeLimits) -> IntakeError:
    return IntakeError(
        "too_many_pixels",
        "This image is too big to process: the limit is "
        f"{limits.max_pixels / 1_000_000:g} megapixels and {limits.max_side:,} pixels per side.",
    )


# Pillow's guards against PNG text chunks that inflate without bound (zTXt/iTXt bombs).
_TEXT_BOMB_MESSAGES = ("decompressed data too large", "too much memory used in text chunks")


def _corrupt(exc: BaseException | None = None) -> IntakeError:
    if exc is not None and any(m in str(exc).lower() for m in _TEXT_BOMB_MESSAGES):
        return IntakeError(
            "oversized_metadata",
            "This PNG carries a compressed text chunk that expands far beyond its size (a "
            "metadata bomb), so it was refused. Save the image again without that metadata.",
        )
    if isinstance(exc, EOFError) or (exc is not None and "truncat" in str(exc).lower()):
        return IntakeError(
            "corrupt", "This file is truncated or corrupt: the image data ends early."
        )
    return IntakeError(
        "corrupt", "This file is damaged or corrupt: the image data could not be read."
    )


# --- display names -------------------------------------------------------------------------

# Bidi embeddings/overrides/isolates, the marks, and zero-width characters; these are all
# category Cf too, but listing them documents what the filter is really for.
_INVISIBLE = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u061c"]
)
_WHITESPACE_RUN = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_FALLBACK_NAME = "untitled"


def sanitize_display_name(name: str, max_length: int = 200) -> str:
    """Make an uploaded file name safe to show; never use the result as a storage path."""
    max_length = max(1, max_length)
    text = unicodedata.normalize("NFC", str(name))
    # Tabs and newlines separate words, so they turn into spaces rather than vanishing.
    text = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or _keep_char(ch))
    parts = [part for part in re.split(r"[/\\]", text) if part.strip(" .")]
    text = parts[-1] if parts else ""
    text = _WHITESPACE_RUN.sub(" ", text).strip()
    text = text.lstrip(". ").rstrip()
    if len(text) > max_length:
        text = _truncate_keeping_extension(text, max_length)
    return text or _FALLBACK_NAME[:max_length]


def _keep_char(ch: str) -> bool:
    if ch in _INVISIBLE:
        return False
    # Cc: control characters (NUL included); Cf: remaining format characters such as soft
    # hyphens and tag characters; Cs: lone surrogates, which cannot even be stored as UTF-8.
    return unicodedata.category(ch) not in {"Cc", "Cf", "Cs"}


def _truncate_keeping_extension(text: str, max_length: int) -> str:
    match = _EXTENSION.search(text)
    extension = match.group(0) if match and match.start() > 0 else ""
    if len(extension) >= max_length:
        return text[:max_length].rstrip()
    stem = text[: len(text) - len(extension)]
    stem = stem[: max_length - len(extension)].rstrip(" .")
    if not stem:
        return (_FALLBACK_NAME + extension)[:max_length]
    return stem + extension
