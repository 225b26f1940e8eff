"""The one way into a PNG, JPEG or WebP file: bounded open, full decode, EXIF orientation.

Pillow callers use :func:`decode` (or :func:`open_bounded` where they must look at the header
before decoding, as intake does); it applies the EXIF orientation once, with
``ImageOps.exif_transpose``'s meaning, and returns :class:`Decoded`, the image with the facts
engines need. The render engine reads masters through libvips: :func:`open_vips` and the
``vips_*`` helpers below give it the same orientation rules.

What callers differ in are parameters, not copies: ``shrink_to`` lets JPEG shrink on load for
previews, checks and saliency, ``upright=False`` keeps the stored orientation (checks measure
JPEG blocks on the stored grid), ``limits`` bounds untrusted uploads. 16-bit samples are kept
as Pillow decodes them (mode ``I;16``/``I`` for grey; Pillow reads 16-bit RGB as 8-bit, so
``bit_depth`` comes from the PNG header).

Framework-free.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvips
from PIL import ExifTags, Image, ImageFile

from workers.imaging.containers import is_png, sniff_format

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")

# Pillow hands back multi-picture JPEGs (phone photos with a depth map or HDR gain map) as
# "MPO"; the primary image is an ordinary JPEG.
_FORMAT_ALIASES = {"MPO": "JPEG"}

ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA", "I;16A"})
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})

_ORIENTATION = ExifTags.Base.Orientation
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class DecodeError(ValueError):
    """The bytes could not be decoded as an accepted image."""


class TooManyPixels(DecodeError):
    """Over the pixel or side limits, or a decompression bomb by Pillow's measure."""


@dataclass(frozen=True)
class PixelLimits:
    max_pixels: int = 80_000_000
    max_side: int = 20_000

    def allow(self, size: tuple[int, int]) -> bool:
        width, height = size
        return (
            0 < width <= self.max_side
            and 0 < height <= self.max_side
            and width * height <= self.max_pixels
        )


@dataclass(frozen=True)
class Decoded:
    """A decoded image and what engines need to know about it."""

    image: Image.Image  # loaded; upright unless decode(upright=False)
    format: str  # "PNG", "JPEG" or "WEBP"
    stored_size: tuple[int, int]  # full resolution, as stored (before shrink and orientation)
    orientation: int  # the EXIF orientation found, 1..8 (applied when the image is upright)
    upright: bool
    icc: bytes | None
    bit_depth: int  # 8 or 16 per sample, as stored
    has_alpha: bool
    reduction: int  # how many times shrink-on-load divided each side (1: full size)

    @property
    def size(self) -> tuple[int, int]:
        """Full-resolution size as people see it (orientation applied)."""
        return upright_size(self.stored_size, self.orientation)

    @property
    def mode(self) -> str:
        return self.image.mode


# --- Pillow ----------------------------------------------------------------------------------


@contextmanager
def decoding(limits: PixelLimits | None = None) -> Iterator[None]:
    """Pillow's warnings silenced around an open and decode: damaged EXIF or a truncated text
    chunk makes it warn on every read, and the pixels are still fine. With ``limits``, the
    decompression-bomb warning becomes :class:`TooManyPixels` instead, only inside this block,
    so Pillow's global ``MAX_IMAGE_PIXELS`` stays untouched for the rest of the process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if limits is not None:
            warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels(str(exc)) from exc


def open_bounded(
    data: bytes,
    *,
    limits: PixelLimits | None = None,
    formats: tuple[str, ...] = ACCEPTED_FORMATS,
) -> ImageFile.ImageFile:
    """Open (header only) with just the parsers for ``formats``; call inside :func:`decoding`.

    Raises :class:`TooManyPixels` when the stored size breaks ``limits`` or Pillow calls it a
    bomb; Pillow's own errors for unreadable bytes pass through, so callers can name them."""
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    if limits is not None and not limits.allow(image.size):
        image.close()
        raise TooManyPixels(f"{image.width}×{image.height} is over the limits")
    return image


def decode(
    data: bytes,
    *,
    shrink_to: int | None = None,
    upright: bool = True,
    limits: PixelLimits | None = None,
) -> Decoded:
    """Decode ``data`` fully, EXIF orientation applied once (unless ``upright=False``).

    ``shrink_to``: a JPEG may decode at 1/2, 1/4 or 1/8 scale as long as its long side stays at
    least this many pixels (other formats decode at full size). Raises :class:`DecodeError`
    (:class:`TooManyPixels` over ``limits``) and nothing else."""
    try:
        with decoding(limits):
            image = open_bounded(data, limits=limits)
            return _decode_opened(image, data, shrink_to=shrink_to, upright=upright)
    except DecodeError:
        raise
    except Exception as exc:  # any decoder failure means "cannot decode"
        raise DecodeError(f"The image could not be decoded: {exc}") from exc


def _decode_opened(
    image: ImageFile.ImageFile, data: bytes, *, shrink_to: int | None, upright: bool
) -> Decoded:
    stored_size = image.size
    fmt = format_of(image)
    if shrink_to is not None and fmt == "JPEG":
        shrink_on_load(image, shrink_to)
    # No close(): that would free the pixels; the file is a BytesIO, which holds nothing else.
    image.load()
    # Read after load(): PNG keeps eXIf and text chunks that follow the image data until then.
    orientation = exif_orientation(image)
    reduction = max(1, round(stored_size[0] / image.width))
    shown: Image.Image = image
    if upright and orientation != 1:
        shown = apply_orientation(image, orientation)
    return Decoded(
        image=shown,
        format=fmt,
        stored_size=stored_size,
        orientation=orientation,
        upright=upright,
        icc=icc_of(image),
        bit_depth=bit_depth(image, data),
        has_alpha=has_alpha(image),
        reduction=reduction,
    )


def format_of(image: Image.Image) -> str:
    return _FORMAT_ALIASES.get(image.format or "", image.format or "")


def shrink_on_load(image: ImageFile.ImageFile, long_side: int) -> None:
    """Let a JPEG decode at the smallest DCT scale that keeps its long side >= ``long_side``."""
    width, height = image.size
    scale = long_side / max(width, height)
    if scale < 1.0:
        image.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation, 1..8; a missing, odd or unreadable value counts as upright."""
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except Exception:  # a broken EXIF block must not sink a valid image
        return 1
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    return 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned upright for an EXIF ``orientation``, as ``ImageOps.exif_transpose``
    turns it; works on any image derived from the decoded one (a greyscale copy, say)."""
    method = _TRANSPOSE.get(orientation)
    if method is None:
        return image
    turned = image.transpose(method)
    if "exif" in turned.info:
        # Drop the tag, so nothing downstream turns the picture a second time.
        exif = turned.getexif()
        exif.pop(_ORIENTATION, None)
        turned.info["exif"] = exif.tobytes()
    return turned


def orient_array(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an (H, W[, C]) array, as :func:`apply_orientation`
    does to an image (for pixels Pillow cannot hold, such as 16-bit RGB)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a[::-1], 0, 1),
        7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
        8: lambda a: np.swapaxes(a[:, ::-1], 0, 1),
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(array)) if op else array


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Orientations 5-8 turn the picture by 90 degrees, so people see it the other way up."""
    width, height = size
    return (height, width) if orientation >= 5 else (width, height)


def icc_of(image: Image.Image) -> bytes | None:
    icc = image.info.get("icc_profile")
    return icc if isinstance(icc, bytes) and icc else None


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ALPHA_MODES or "transparency" in image.info


def bit_depth(image: Image.Image, data: bytes) -> int:
    if image.mode in SIXTEEN_BIT_MODES:
        return 16
    # Pillow reduces 16-bit RGB(A) PNGs to 8-bit modes, so the IHDR is the only place the
    # original depth survives.
    if png_bit_depth(data) == 16:
        return 16
    return 8


def png_bit_depth(data: bytes) -> int | None:
    """The bit depth in a PNG's IHDR, or None for anything else."""
    if is_png(data) and len(data) >= 25 and data[12:16] == b"IHDR":
        return data[24]
    return None


def to_eight_bit(image: Image.Image) -> Image.Image:
    """Bring every decoded mode to L, LA, RGB, RGBA or CMYK, still in the source colour space."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA", "CMYK", "LA"):
        return image
    if mode in SIXTEEN_BIT_MODES:
        # convert("L") would clip every value above 255 to white; 16-bit data has to be scaled.
        # Anything in mode "I" decoded from PNG/WebP/JPEG came from 16-bit samples.
        as_int = image if mode == "I" else image.convert("I")
        return as_int.point(lambda value: value / 257 + 0.5).convert("L")
    if mode in ("P", "PA"):
        return image.convert("RGBA" if mode == "PA" or "transparency" in image.info else "RGB")
    if mode == "1":
        return image.convert("L")
    if mode == "RGBa":
        return image.convert("RGBA")
    if mode == "La":
        return image.convert("LA")
    if mode == "F":
        return image.point(lambda value: value * 255).convert("L")
    return image.convert("RGBA" if "A" in mode or "transparency" in image.info else "RGB")


# --- libvips (the render engine) -------------------------------------------------------------

_VIPS_LOADERS = {"JPEG": "jpegload_buffer", "PNG": "pngload_buffer", "WEBP": "webpload_buffer"}


def vips_loader(data: bytes) -> str:
    """The libvips loader for ``data``; only the loaders for the accepted formats see bytes."""
    fmt = sniff_format(data)
    if fmt is None:
        raise DecodeError("Not a PNG, JPEG or WebP file.")
    return _VIPS_LOADERS[fmt]


def open_vips(data: bytes, *, shrink: int = 1, random_access: bool = False) -> pyvips.Image:
    """A libvips image of ``data`` (lazy: pixels decode when read), in stored orientation.

    ``shrink`` (2, 4, 8) lets JPEG and WebP decode smaller; ``random_access`` is needed to
    turn it by 90 degrees, which reads columns that a sequential decode cannot serve."""
    loader = vips_loader(data)
    options: dict[str, Any] = {
        "access": "random" if random_access else "sequential",
        "fail_on": "error",
    }
    if shrink > 1 and loader == "jpegload_buffer":
        options["shrink"] = shrink
    elif shrink > 1 and loader == "webpload_buffer":
        options["scale"] = 1 / shrink
    try:
        return getattr(pyvips.Image, loader)(data, **options)
    except pyvips.Error as exc:
        raise DecodeError(vips_message(exc)) from exc


def vips_shrink(header: pyvips.Image, scale: float, *, gap: float) -> int:
    """The largest shrink-on-load (8, 4, 2) that still leaves ``gap`` times the pixels a
    ``scale`` downscale needs; 1 for formats that cannot shrink on load."""
    loader = header.get("vips-loader") if header.get_typeof("vips-loader") else ""
    if not str(loader).startswith(("jpegload", "webpload")):
        return 1
    for shrink in (8, 4, 2):
        if scale * shrink * gap <= 1.0:
            return shrink
    return 1


def vips_orientation(image: pyvips.Image) -> int:
    if image.get_typeof("orientation"):
        value = image.get("orientation")
        if isinstance(value, int) and 1 <= value <= 8:
            return value
    return 1


def vips_upright_size(image: pyvips.Image) -> tuple[int, int]:
    return upright_size((image.width, image.height), vips_orientation(image))


def vips_upright(image: pyvips.Image) -> pyvips.Image:
    """``image`` turned upright (libvips' ``autorot``, the same turns as Pillow's)."""
    if vips_orientation(image) == 1:
        return image
    return image.autorot()


def vips_message(exc: pyvips.Error) -> str:
    """The useful last line of a libvips error."""
    detail = (getattr(exc, "detail", "") or str(exc)).strip().splitlines()
    return detail[-1] if detail else "unknown libvips error"
