"""The compare component's context (templates/core/partials/compare.html, static/js/compare.js):
one builder, so the version compare and the upscale result page open the same way."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from workers.renditions import rendition_max_side

COMPARE_MODES = ("wipe", "side", "onion")


def compare_component(
    *,
    a: dict[str, Any],
    b: dict[str, Any],
    request: HttpRequest,
    default_mode: str = "wipe",
    element_id: str = "compare",
) -> dict[str, Any]:
    """``a`` and ``b`` are {label, src, fullSrc, width, height}; ``src`` is either ``fullSrc``
    or the draft's preview rendition. ``?mode=`` picks the mode (the
    page keeps it in the address, so a reload keeps it); ``?zoom=100`` opens at 100 % of the
    larger image's real pixels instead of fit."""
    mode = request.GET.get("mode", default_mode)
    return {
        "id": element_id,
        "json_id": f"{element_id}-images",
        "mode": mode if mode in COMPARE_MODES else default_mode,
        "zoom": "100" if request.GET.get("zoom") == "100" else "fit",
        "a": a,
        "b": b,
        "images": {"a": _with_src_side(a), "b": _with_src_side(b)},
    }


def _with_src_side(image: dict[str, Any]) -> dict[str, Any]:
    """Add ``srcSide``: the longest side of what ``src`` really holds, so the script knows when
    a zoom needs the real file. Where ``src`` is the preview rendition that is the preview's
    side (never more than the image's own)."""
    longest = max(int(image["width"]), int(image["height"]))
    side = longest if image["src"] == image["fullSrc"] else rendition_max_side("preview")
    return {**image, "srcSide": min(longest, side)}
