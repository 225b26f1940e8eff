"""Where an image file really ends, so bytes appended after it can be dropped.

Polyglot files (a PNG with an HTML page or a zip archive glued to its end) decode as images
yet carry a second payload. Intake keeps only the image's own bytes: exact for PNG (IEND),
WebP (the RIFF size) and JPEG (markers walked to EOI, skipping entropy-coded data), so nothing
of the picture changes.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_end(data: bytes, fmt: str) -> int | None:
    """Length of the image proper, or None when the structure cannot be followed."""
    try:
        if fmt == "PNG":
            return _png_end(data)
        if fmt == "WEBP":
            return _webp_end(data)
        if fmt == "JPEG":
            return _jpeg_end(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _png_end(data: bytes) -> int | None:
    if not data.startswith(PNG_SIGNATURE):
        return None
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length  # length, type, body, crc
        if end > len(data):
            return None
        if kind == b"IEND":
            return end
        pos = end
    return None


def _webp_end(data: bytes) -> int | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size + (size & 1)
    return end if end <= len(data) else None


# Markers with no length field: SOI, EOI, RST0-7, TEM.
_STANDALONE = {0xD8, 0xD9, 0x01, *range(0xD0, 0xD8)}


def _jpeg_end(data: bytes) -> int | None:
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    n = len(data)
    while pos < n:
        if data[pos] != 0xFF:
            return None
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos
        if marker in _STANDALONE:
            continue
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        pos += length
        if marker == 0xDA:  # start of scan: skip entropy-coded data to the next real marker
            while pos + 1 < n:
                if (
                    data[pos] == 0xFF
                    and data[pos + 1] != 0x00
                    and not 0xD0 <= data[pos + 1] <= 0xD7
                ):
                    break
                pos += 1
            else:
                return None
    return None
