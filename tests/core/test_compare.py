"""The compare component's context (apps/core/compare.py)."""

from django.test import RequestFactory

from apps.core.compare import compare_component
from workers.renditions import rendition_max_side


def _image(src: str, full: str, width: int, height: int) -> dict[str, object]:
    return {"label": src, "src": src, "fullSrc": full, "width": width, "height": height}


def test_a_preview_source_says_how_many_pixels_it_holds_so_a_zoom_knows_when_to_load_the_file():
    big = _image("/preview", "/original", 4096, 3072)
    small = _image("/preview-small", "/original-small", 512, 300)
    compare = compare_component(a=big, b=small, request=RequestFactory().get("/"))
    assert compare["images"]["a"]["srcSide"] == rendition_max_side("preview") == 2048
    assert compare["images"]["b"]["srcSide"] == 512  # a preview is never larger than its file


def test_an_image_shown_from_its_own_file_holds_all_its_pixels():
    same = _image("/result", "/result", 8192, 6000)
    compare = compare_component(a=same, b=same, request=RequestFactory().get("/?mode=onion"))
    assert compare["images"]["a"]["srcSide"] == 8192
    assert compare["mode"] == "onion"
