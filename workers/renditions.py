"""Browser preview renditions of an uploaded image.

Input is expected to have passed :func:`workers.intake.inspect_image`; anything that still fails
to decode raises :class:`RenditionError`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from workers.imaging.colour import pil_to_srgb, srgb_profile
from workers.imaging.decode import DecodeError, decode, to_eight_bit

_CONTENT_TYPES = {"WEBP": "image/webp", "PNG": "image/png", "JPEG": "image/jpeg"}
_FORMAT_ALIASES = {"JPG": "JPEG"}
_ALPHA_FORMATS = frozenset({"WEBP", "PNG"})

# As with Image.thumbnail, JPEG shrink-on-load only goes down to twice the largest target so
# the final LANCZOS pass still has enough pixels to produce a sharp result.
_DRAFT_GAP = 2.0
# Resize first shrinks by integer factors with Image.reduce (fast box filter) down to this
# multiple of the target, then LANCZOS does the rest.
_REDUCING_GAP = 3.0

_FLATTEN_BACKGROUND = (255, 255, 255)


class RenditionError(ValueError):
    """The image could not be decoded or a spec asks for something impossible."""


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    max_side: int
    format: str = "WEBP"
    quality: int = 82


@dataclass(frozen=True)
class Rendition:
    name: str
    data: bytes
    width: int
    height: int
    content_type: str
    format: str


DEFAULT_SPECS = (RenditionSpec("thumb", 480), RenditionSpec("preview", 2048))


def rendition_max_side(name: str, specs: Sequence[RenditionSpec] = DEFAULT_SPECS) -> int:
    """The longest side of the rendition called ``name`` (an image smaller than it is kept at
    its own size)."""
    return next(spec.max_side for spec in specs if spec.name == name)


def render_renditions(
    data: bytes, specs: Sequence[RenditionSpec] = DEFAULT_SPECS
) -> list[Rendition]:
    """Decode ``data`` once and encode one upright, sRGB rendition per spec (same order)."""
    if not specs:
        return []
    formats = [_normalise_format(spec) for spec in specs]
    base, icc = _decode(data, max(spec.max_side for spec in specs))

    # Largest first, so each smaller size is resampled from the previous, already reduced one.
    order = sorted(range(len(specs)), key=lambda i: specs[i].max_side, reverse=True)
    results: dict[int, Rendition] = {}
    source = base
    for index in order:
        spec, fmt = specs[index], formats[index]
        source = _fit(source, spec.max_side)
        results[index] = _encode(source, icc, spec, fmt)
    return [results[i] for i in range(len(specs))]


def _normalise_format(spec: RenditionSpec) -> str:
    fmt = _FORMAT_ALIASES.get(spec.format.upper(), spec.format.upper())
    if fmt not in _CONTENT_TYPES:
        raise RenditionError(f"Unsupported rendition format {spec.format!r}.")
    if spec.max_side < 1:
        raise RenditionError(f"Rendition {spec.name!r} needs a positive max_side.")
    return fmt


def _decode(data: bytes, largest_side: int) -> tuple[Image.Image, bytes | None]:
    # JPEG shrink-on-load stops at twice the largest target, as Image.thumbnail does.
    try:
        decoded = decode(data, shrink_to=math.ceil(largest_side * _DRAFT_GAP))
        return to_eight_bit(decoded.image), decoded.icc
    except DecodeError as exc:
        raise RenditionError(str(exc)) from exc
    except Exception as exc:  # any conversion failure means "cannot render"
        raise RenditionError(f"The image could not be decoded: {exc}") from exc


def _fit(im: Image.Image, max_side: int) -> Image.Image:
    width, height = im.size
    if max(width, height) <= max_side:
        return im
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _encode(im: Image.Image, icc: bytes | None, spec: RenditionSpec, fmt: str) -> Rendition:
    rgb = pil_to_srgb(im, icc)
    keep_alpha = fmt in _ALPHA_FORMATS and rgb.mode == "RGBA" and _alpha_is_used(rgb)
    if rgb.mode == "RGBA" and not keep_alpha:
        rgb = _flatten(rgb)
    # Whatever the source carried (EXIF, XMP, comments, its own profile) stays behind; only the
    # sRGB profile describing the new pixels goes out.
    rgb.info = {}
    buffer = io.BytesIO()
    if fmt == "WEBP":
        rgb.save(buffer, "WEBP", quality=spec.quality, method=4, icc_profile=srgb_profile())
    elif fmt == "JPEG":
        rgb.save(
            buffer,
            "JPEG",
            quality=spec.quality,
            optimize=True,
            progressive=True,
            icc_profile=srgb_profile(),
        )
    else:
        rgb.save(buffer, "PNG", icc_profile=srgb_profile())
    return Rendition(
        name=spec.name,
        data=buffer.getvalue(),
        width=rgb.width,
        height=rgb.height,
        content_type=_CONTENT_TYPES[fmt],
        format=fmt,
    )


def _alpha_is_used(im: Image.Image) -> bool:
    low, _high = im.getchannel("A").getextrema()
    return isinstance(low, int) and low < 255


def _flatten(im: Image.Image) -> Image.Image:
    background = Image.new("RGB", im.size, _FLATTEN_BACKGROUND)
    background.paste(im, mask=im.getchannel("A"))
    return background
