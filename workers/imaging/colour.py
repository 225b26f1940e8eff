"""ICC profiles and the one sRGB profile every engine embeds.

Every file Draftroom writes (previews, channel versions, upscaled masters) is tagged with the
same sRGB profile bytes, :func:`srgb_profile`, whether Pillow or libvips wrote it, and every
conversion to sRGB targets that same profile. It is libvips' built-in sRGB profile: libvips'
own ICC transforms already write it, and unlike the one Pillow's ``ImageCms.createProfile``
builds it carries a fixed creation date, so equal pixels give equal bytes in every process.

Conversions fall back to the raw values when an embedded profile is broken or does not match
the pixels, as previews always have: a draft that decodes is never refused for its profile.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import pyvips
from PIL import Image, ImageCms


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB ICC profile, as bytes, that every output embeds."""
    probe = pyvips.Image.black(1, 1, bands=3).copy(interpretation="srgb")
    tagged = probe.icc_transform("srgb", input_profile="srgb")
    return bytes(tagged.get("icc-profile-data"))


@lru_cache(maxsize=1)
def _srgb_cms() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile()))


def icc_description(icc: bytes | None) -> str:
    """A profile's description on one line ("sRGB IEC61966-2.1"), or "" when unreadable."""
    if not icc:
        return ""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except Exception:  # unreadable profiles just go undescribed
        return ""
    return " ".join((description or "").split())


# --- Pillow ----------------------------------------------------------------------------------


def pil_to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB from an L, LA, RGB, RGBA or CMYK image described by ``icc``.

    Alpha is carried past the conversion untouched; without a usable profile the values are
    taken as they are, except CMYK, which goes through libvips' built-in CMYK profile exactly as
    :func:`vips_to_srgb8` takes it (a preview and a channel version of one file agree)."""
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    colour = image
    if alpha is not None:
        colour = image.convert("RGB" if image.mode == "RGBA" else "L")
    converted = _apply_profile(colour, icc) if icc else None
    if converted is None and colour.mode == "CMYK":
        converted = _cmyk_through_builtin_profile(colour)
    if converted is None:
        converted = colour.convert("RGB")
    if alpha is not None:
        converted = converted.convert("RGB")
        converted.putalpha(alpha)
    return converted


def _apply_profile(image: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image,
            source,
            _srgb_cms(),
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
    except Exception:  # a broken or mismatched profile falls back to raw values
        return None
    return converted if isinstance(converted, Image.Image) else None


def _cmyk_through_builtin_profile(image: Image.Image) -> Image.Image | None:
    width, height = image.size
    cmyk = pyvips.Image.new_from_memory(image.tobytes(), width, height, 4, "uchar")
    try:
        srgb = _vips_cmyk_builtin(cmyk.copy(interpretation="cmyk"))
    except pyvips.Error:
        return None
    return Image.frombytes("RGB", (width, height), srgb.write_to_memory())


# --- libvips ---------------------------------------------------------------------------------


def _vips_cmyk_builtin(image: pyvips.Image) -> pyvips.Image:
    """CMYK pixels with no usable profile of their own, through libvips' built-in CMYK profile."""
    return image.icc_transform(
        "srgb", intent="perceptual", depth=8, embedded=False, input_profile="cmyk"
    )


class ColourError(ValueError):
    """Pixels that cannot be brought to sRGB at all (CMYK whose conversion failed)."""


def vips_icc(image: pyvips.Image) -> bytes | None:
    """The ICC profile a libvips image carries, if any."""
    if image.get_typeof("icc-profile-data"):
        return bytes(image.get("icc-profile-data"))
    return None


def vips_to_srgb8(image: pyvips.Image, icc: bytes | None) -> pyvips.Image:
    """8-bit sRGB (plus alpha) from whatever the master was: ``icc`` honoured, untagged CMYK
    through libvips' built-in CMYK profile, 16-bit scaled, greyscale expanded."""
    interpretation = image.interpretation
    converted = None
    if icc:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    if icc:
        try:
            options: dict[str, Any] = {"intent": "perceptual", "depth": 8, "embedded": True}
            # "srgb" is libvips' built-in profile: the bytes srgb_profile() returns.
            converted = image.icc_transform("srgb", **options)
        except pyvips.Error:
            converted = None  # a broken profile falls back to the raw values, as previews do
    if converted is None and interpretation == "cmyk":
        try:
            converted = _vips_cmyk_builtin(image)
        except pyvips.Error:
            converted = None
    if converted is None:
        if interpretation == "cmyk":
            raise ColourError("The CMYK image could not be converted to sRGB.")
        converted = image.colourspace("srgb")
    if converted.format != "uchar":
        converted = converted.cast("uchar")
    return converted


def vips_tag_srgb(image: pyvips.Image) -> pyvips.Image:
    """A copy of ``image`` tagged with :func:`srgb_profile`, for savers that keep the ICC."""
    tagged = image.copy()
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data", srgb_profile())
    return tagged
