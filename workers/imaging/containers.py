"""Image containers: the signatures that tell PNG, JPEG and WebP apart, and walking their parts.

The one place that knows how these files begin; every engine sniffs a format through here.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

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


# --- walking the parts -----------------------------------------------------------------------
# Every walker treats its input as hostile: it stops quietly at the first part whose declared
# length runs past the data, and never decompresses or decodes anything on its own.


@dataclass(frozen=True)
class Part:
    """One PNG chunk, WebP (RIFF) chunk or JPEG segment.

    ``kind`` is the PNG chunk type or the RIFF FourCC (``b"tEXt"``, ``b"EXIF"``) or, for JPEG,
    the marker byte (``0xE1``). ``end`` is where the next part starts: after a PNG chunk's CRC,
    a RIFF chunk's padding byte, or a JPEG scan's entropy-coded data.
    """

    kind: bytes | int
    start: int
    size: int
    end: int
    data: bytes = field(repr=False)

    @property
    def body(self) -> bytes:
        # Sliced on demand so that walking past megabytes of IDAT or scan data copies nothing.
        return self.data[self.start : self.start + self.size]


def png_chunks(data: bytes) -> Iterator[Part]:
    """The chunks of a PNG file in order, ``IEND`` included; stops at a truncated chunk."""
    if not is_png(data):
        return
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length  # length, type, body, CRC
        if end > len(data):
            return
        yield Part(kind, pos + 8, length, end, data)
        if kind == b"IEND":
            return
        pos = end


PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def png_text(chunk: Part, *, max_inflated: int) -> tuple[str, str] | None:
    """``(keyword, text)`` of a tEXt, zTXt or iTXt chunk, or None when it cannot be read.

    Compressed text is inflated to at most ``max_inflated`` bytes; a chunk that would inflate
    further is refused rather than cut, so that a zip bomb costs nothing.
    """
    if chunk.kind not in PNG_TEXT_CHUNKS:
        return None
    raw_key, separator, rest = chunk.body.partition(b"\x00")
    if not separator or not raw_key:
        return None
    key = raw_key.decode("latin-1")
    if chunk.kind == b"tEXt":
        # The PNG spec says Latin-1, but several generators write UTF-8 into tEXt.
        return key, decode_text(rest)
    if chunk.kind == b"zTXt":
        inflated = _inflate(rest[1:], max_inflated) if rest[:1] == b"\x00" else None
        return None if inflated is None else (key, decode_text(inflated))
    if len(rest) < 2:
        return None
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated_key, _, text = rest.partition(b"\x00")
    if compressed:
        inflated = _inflate(text, max_inflated) if method == 0 else None
        if inflated is None:
            return None
        text = inflated
    return key, text.decode("utf-8", "replace")


def decode_text(raw: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8, Latin-1 otherwise (which never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _inflate(compressed: bytes, limit: int) -> bytes | None:
    decompressor = zlib.decompressobj()
    try:
        inflated = decompressor.decompress(compressed, limit)
    except zlib.error:
        return None
    if decompressor.unconsumed_tail:
        return None
    return inflated


JPEG_SOS = 0xDA
JPEG_EOI = 0xD9
JPEG_APP1 = 0xE1
JPEG_COM = 0xFE
EXIF_APP1_HEADER = b"Exif\x00\x00"
XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
# Markers with no length field: SOI, EOI, RST0-7, TEM.
_JPEG_STANDALONE = frozenset({0xD8, JPEG_EOI, 0x01, *range(0xD0, 0xD8)})


def jpeg_segments(data: bytes, *, through_scans: bool = False) -> Iterator[Part]:
    """The marker segments of a JPEG file in order.

    By default the walk ends at the first start-of-scan (``SOS``), which is all that metadata
    readers need. With ``through_scans`` it skips each scan's entropy-coded data and goes on
    to ``EOI`` (progressive files have several scans), which is how the end of the image is
    found. Standalone markers come out with an empty body.
    """
    if not is_jpeg(data):
        return
    pos = 2
    n = len(data)
    while pos < n:
        if data[pos] != 0xFF:
            return
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            return
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            yield Part(marker, pos, 0, pos, data)
            if marker == JPEG_EOI:
                return
            continue
        if pos + 2 > n:
            return
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > n:
            return
        start, pos = pos + 2, pos + length
        if marker == JPEG_SOS:
            if not through_scans:
                yield Part(marker, start, length - 2, pos, data)
                return
            scan_end = _jpeg_scan_end(data, pos)
            if scan_end is None:
                return
            pos = scan_end
        yield Part(marker, start, length - 2, pos, data)


def _jpeg_scan_end(data: bytes, pos: int) -> int | None:
    # Inside a scan 0xFF is followed by 0x00 (a stuffed byte) or RST0-7; anything else is the
    # next real marker.
    n = len(data)
    while pos + 1 < n:
        if data[pos] == 0xFF and data[pos + 1] != 0x00 and not 0xD0 <= data[pos + 1] <= 0xD7:
            return pos
        pos += 1
    return None


def webp_chunks(data: bytes) -> Iterator[Part]:
    """The chunks inside a WebP file's RIFF container; stops at a truncated chunk."""
    if not is_webp(data):
        return
    riff_end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    while pos + 8 <= riff_end:
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > riff_end:
            return
        yield Part(fourcc, pos + 8, size, pos + 8 + size + (size & 1), data)
        pos += 8 + size + (size & 1)


def image_end(data: bytes, fmt: str) -> int | None:
    """Length of the image proper, or None when the structure cannot be followed.

    Polyglot files (a PNG with an HTML page or a zip archive glued to its end) decode as
    images yet carry a second payload. Intake keeps only the image's own bytes: exact for PNG
    (``IEND``), WebP (the RIFF size) and JPEG (markers walked to ``EOI``, skipping
    entropy-coded data), so nothing of the picture changes.
    """
    if fmt == "PNG":
        return _end_of_last(png_chunks(data), b"IEND")
    if fmt == "JPEG":
        return _end_of_last(jpeg_segments(data, through_scans=True), JPEG_EOI)
    if fmt == "WEBP":
        if not is_webp(data):
            return None
        size = int.from_bytes(data[4:8], "little")
        end = 8 + size + (size & 1)
        return end if end <= len(data) else None
    return None


def _end_of_last(parts: Iterator[Part], final_kind: bytes | int) -> int | None:
    # The walkers stop early on a truncated part, so only a walk that reached the final marker
    # knows where the image ends.
    last = None
    for last in parts:  # noqa: B007 - only the last part matters
        pass
    return last.end if last is not None and last.kind == final_kind else None
