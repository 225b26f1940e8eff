"""The default channel presets as ``ChannelPreset`` field values, from the seed table in
``workers/presets.py``. Used by the data migration and by ``preset_defaults_ensure``."""

from __future__ import annotations

from typing import Any

from workers.presets import DEFAULT_PRESET_SEEDS


def default_preset_rows() -> list[dict[str, Any]]:
    rows = []
    for order, seed in enumerate(DEFAULT_PRESET_SEEDS):
        spec = seed.spec
        rows.append(
            {
                "slug": spec.slug,
                "name": seed.name,
                "channel": seed.channel,
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
