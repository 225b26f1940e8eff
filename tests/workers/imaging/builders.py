"""Images for the imaging-layer tests that tests/images.py has no builder for."""

from __future__ import annotations

import io
from functools import lru_cache

import pyvips
from PIL import Image

from tests.images import pattern_image


@lru_cache(maxsize=1)
def cmyk_icc() -> bytes:
    """A real CMYK output profile: the one libvips converts untagged CMYK with."""
    probe = pyvips.Image.black(1, 1, bands=3).copy(interpretation="srgb")
    return bytes(probe.icc_transform("cmyk", input_profile="srgb").get("icc-profile-data"))


def cmyk_jpeg(size: tuple[int, int] = (40, 30), *, profile: bool) -> bytes:
    """The test card as a print-ready CMYK JPEG, tagged with :func:`cmyk_icc` or untagged."""
    buffer = io.BytesIO()
    image = pattern_image(size).convert("CMYK")
    image.save(buffer, "JPEG", quality=95, icc_profile=cmyk_icc() if profile else None)
    return buffer.getvalue()


def png_with_orientation(image: Image.Image, orientation: int) -> bytes:
    """A PNG whose eXIf chunk carries an EXIF orientation."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif)
    return buffer.getvalue()
