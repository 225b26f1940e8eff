"""Image containers: the signatures that tell PNG, JPEG and WebP apart, and walking their parts.

The one place that knows how these files begin; every engine sniffs a format through here.
"""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"


def is_png(data: bytes) -> bool:
    return data[:8] == PNG_SIGNATURE


def is_jpeg(data: bytes) -> bool:
    return data[:2] == JPEG_SOI


def is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def sniff_format(data: bytes) -> str | None:
    """ "PNG", "JPEG" or "WEBP" from the first bytes, or None for anything else."""
    if is_png(data):
        return "PNG"
    if is_jpeg(data):
        return "JPEG"
    if is_webp(data):
        return "WEBP"
    return None
