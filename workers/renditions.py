"""Browser preview renditions of an uploaded image.

Input is expected to have passed :func:`workers.intake.inspect_image`; anything that still fails
to decode raises :class:`RenditionError`.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageCms, ImageFile, ImageOps

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
    try:
        # Damaged EXIF blocks make Pillow warn on every read; the pixels are still fine, and the
        # size limits were enforced at intake.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                if im.format in ("JPEG", "MPO"):
                    _shrink_on_load(im, largest_side)
                im.load()
                icc = im.info.get("icc_profile") or None
                base = _to_eight_bit(_upright(im))
    except Exception as exc:  # any decoder failure means "cannot render"
        raise RenditionError(f"The image could not be decoded: {exc}") from exc
    return base, icc if isinstance(icc, bytes) else None


def _upright(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # unreadable EXIF counts as upright, as it does at intake
        return im.copy()


def _shrink_on_load(im: ImageFile.ImageFile, largest_side: int) -> None:
    width, height = im.size
    scale = largest_side * _DRAFT_GAP / max(width, height)
    if scale < 0.5:
        im.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))


def _to_eight_bit(im: Image.Image) -> Image.Image:
    """Bring every decoded mode to L, LA, RGB, RGBA or CMYK, still in the source colour space."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA", "CMYK", "LA"):
        return im
    if mode.startswith("I;16") or mode == "I":
        return _sixteen_bit_to_l(im)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode == "La":
        return im.convert("LA")
    if mode == "F":
        return im.point(lambda value: value * 255).convert("L")
    return im.convert("RGBA" if "A" in mode or "transparency" in im.info else "RGB")


def _sixteen_bit_to_l(im: Image.Image) -> Image.Image:
    # convert("L") would clip every value above 255 to white; 16-bit data has to be scaled.
    # Anything in mode "I" decoded from PNG/WebP/JPEG came from 16-bit samples, so the same
    # 0..65535 range applies.
    as_int = im if im.mode == "I" else im.convert("I")
    return as_int.point(lambda value: value / 257 + 0.5).convert("L")


def _fit(im: Image.Image, max_side: int) -> Image.Image:
    width, height = im.size
    if max(width, height) <= max_side:
        return im
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _encode(im: Image.Image, icc: bytes | None, spec: RenditionSpec, fmt: str) -> Rendition:
    rgb = _to_srgb(im, icc)
    keep_alpha = fmt in _ALPHA_FORMATS and rgb.mode == "RGBA" and _alpha_is_used(rgb)
    if rgb.mode == "RGBA" and not keep_alpha:
        rgb = _flatten(rgb)
    # Whatever the source carried (EXIF, XMP, comments, its own profile) stays behind; only the
    # sRGB profile describing the new pixels goes out.
    rgb.info = {}
    buffer = io.BytesIO()
    if fmt == "WEBP":
        rgb.save(buffer, "WEBP", quality=spec.quality, method=4, icc_profile=_srgb_bytes())
    elif fmt == "JPEG":
        rgb.save(
            buffer,
            "JPEG",
            quality=spec.quality,
            optimize=True,
            progressive=True,
            icc_profile=_srgb_bytes(),
        )
    else:
        rgb.save(buffer, "PNG", icc_profile=_srgb_bytes())
    return Rendition(
        name=spec.name,
        data=buffer.getvalue(),
        width=rgb.width,
        height=rgb.height,
        content_type=_CONTENT_TYPES[fmt],
        format=fmt,
    )


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
    colour = im.convert("RGB" if im.mode == "RGBA" else "L") if alpha is not None else im
    converted = _apply_profile(colour, icc) if icc else None
    if converted is None:
        converted = colour.convert("RGB")
    if alpha is not None:
        converted = converted.convert("RGB")
        converted.putalpha(alpha)
    return converted


def _apply_profile(im: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            im,
            source,
            _srgb_profile(),
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
    except Exception:  # a broken or mismatched profile falls back to raw values
        return None
    return converted if isinstance(converted, Image.Image) else None


def _alpha_is_used(im: Image.Image) -> bool:
    low, _high = im.getchannel("A").getextrema()
    return isinstance(low, int) and low < 255


def _flatten(im: Image.Image) -> Image.Image:
    background = Image.new("RGB", im.size, _FLATTEN_BACKGROUND)
    background.paste(im, mask=im.getchannel("A"))
    return background


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=1)
def _srgb_bytes() -> bytes:
    return _srgb_profile().tobytes()
