import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from tests.images import jpeg_bytes, png_bytes, png_chunk, webp_bytes
from workers.imaging.containers import (
    EXIF_APP1_HEADER,
    JPEG_APP1,
    JPEG_EOI,
    JPEG_SOS,
    PNG_SIGNATURE,
    image_end,
    jpeg_segments,
    png_chunks,
    png_text,
    webp_chunks,
)

ZIP = io.BytesIO()
with zipfile.ZipFile(ZIP, "w") as z:
    z.writestr("payload.html", "<script>alert(1)</script>" + "\xff\xd9" * 4)
APPENDIX = b"<html><script>alert(document.cookie)</script></html>" + ZIP.getvalue()


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("PNG", png_bytes(size=(40, 30), text={"parameters": "a can"})),
        ("JPEG", jpeg_bytes(size=(40, 30), description="a can on ice")),
        ("WEBP", webp_bytes(size=(40, 30))),
    ],
)
def test_the_image_end_is_exact_and_ignores_an_appended_payload(fmt, data):
    assert image_end(data, fmt) == len(data)
    assert image_end(data + APPENDIX, fmt) == len(data)


def test_a_progressive_jpeg_with_several_scans_ends_at_its_last_eoi():
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "JPEG", progressive=True, quality=80)
    data = buf.getvalue()
    assert image_end(data + APPENDIX, "JPEG") == len(data)


def test_a_truncated_or_unknown_structure_gives_no_answer():
    data = png_bytes()
    assert image_end(data[:-20], "PNG") is None
    assert image_end(b"not an image", "JPEG") is None
    assert image_end(data, "GIF") is None


def test_png_chunks_come_in_file_order_and_end_at_iend():
    data = png_bytes(size=(8, 8), text={"parameters": "a can"})
    kinds = [chunk.kind for chunk in png_chunks(data)]
    assert kinds[0] == b"IHDR"
    assert b"tEXt" in kinds
    assert kinds[-1] == b"IEND"
    assert [chunk.kind for chunk in png_chunks(data + APPENDIX)] == kinds


def test_png_text_reads_all_three_text_chunks_and_refuses_a_bomb():
    def text(kind: bytes, body: bytes) -> tuple[str, str] | None:
        data = PNG_SIGNATURE + png_chunk(kind, body)
        return png_text(next(png_chunks(data)), max_inflated=1024)

    assert text(b"tEXt", b"parameters\x00caf\xc3\xa9") == ("parameters", "café")
    assert text(b"zTXt", b"prompt\x00\x00" + zlib.compress(b"{}")) == ("prompt", "{}")
    itxt = b"Comment\x00\x01\x00en\x00\x00" + zlib.compress("bébé".encode())
    assert text(b"iTXt", itxt) == ("Comment", "bébé")
    assert text(b"zTXt", b"prompt\x00\x00" + zlib.compress(b"x" * 4096)) is None
    assert text(b"IDAT", b"prompt\x00x") is None


def test_jpeg_segments_stop_at_the_first_scan_unless_asked_to_walk_through():
    data = jpeg_bytes(size=(16, 16), user_comment="a can", description="a can on ice")
    markers = [segment.kind for segment in jpeg_segments(data)]
    assert JPEG_APP1 in markers
    assert markers[-1] == JPEG_SOS
    exif = next(s for s in jpeg_segments(data) if s.kind == JPEG_APP1)
    assert exif.body.startswith(EXIF_APP1_HEADER)
    assert [s.kind for s in jpeg_segments(data, through_scans=True)][-1] == JPEG_EOI


def test_webp_chunks_stay_inside_the_riff_container():
    data = webp_bytes(size=(16, 16))
    fourccs = [chunk.kind for chunk in webp_chunks(data)]
    assert fourccs and fourccs[0] in (b"VP8 ", b"VP8L", b"VP8X")
    fake = b"EXIF" + struct.pack("<I", 4) + b"evil"
    assert [chunk.kind for chunk in webp_chunks(data + fake)] == fourccs
