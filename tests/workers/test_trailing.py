import io
import zipfile

import pytest
from PIL import Image

from tests.images import jpeg_bytes, png_bytes, webp_bytes
from workers.trailing import image_end

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
