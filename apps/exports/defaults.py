"""The default channel presets: names and channels here, sizes and encoding from the engine's
DEFAULT_PRESETS. Used by the data migration and by ``preset_defaults_ensure``."""

from __future__ import annotations

from typing import Any

from workers.render import DEFAULT_PRESETS

_LABELS: dict[str, tuple[str, str]] = {
    # slug: (name, campaign channel)
    "square": ("Square 1:1", "square"),
    "social": ("Social 4:5", "social"),
    "vertical": ("Vertical 9:16", "vertical"),
    "widescreen": ("Widescreen 16:9", "widescreen"),
    "hero": ("Hero banner 3:1", "hero"),
    "hero_wide": ("Hero banner 21:9", "hero"),
    "product_card": ("Product card", "product_card"),
    "youtube_thumbnail": ("YouTube thumbnail", ""),
    "link_image": ("Link image", ""),
    "presentation": ("Presentation 16:9", "presentation"),
}


def default_preset_rows() -> list[dict[str, Any]]:
    rows = []
    for order, spec in enumerate(DEFAULT_PRESETS):
        name, channel = _LABELS[spec.slug]
        rows.append(
            {
                "slug": spec.slug,
                "name": name,
                "channel": channel,
                "width": spec.width,
                "height": spec.height,
                "format": spec.format,
                "quality": spec.quality,
                "max_bytes": spec.max_bytes,
                "background": "#{:02x}{:02x}{:02x}".format(*spec.background),
                "safe_top": spec.safe_area.top,
                "safe_right": spec.safe_area.right,
                "safe_bottom": spec.safe_area.bottom,
                "safe_left": spec.safe_area.left,
                "sort_order": (order + 1) * 10,
            }
        )
    return rows
