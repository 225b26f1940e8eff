"""The channel presets staff start from: the one table of default channel sizes and names.

It seeds the staff-editable ``ChannelPreset`` rows (apps.exports' data migration and
``preset_defaults_ensure``) and gives the render bench and the engine tests a realistic set.
The running app never reads it: checks, upscales and exports take their sizes from the rows
(``apps.campaigns.channels.campaign_channel_targets``), so an edited preset is what counts.

Framework-free, so ``workers/render_bench.py`` can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.focal import SafeArea
from workers.render import PresetSpec


@dataclass(frozen=True)
class PresetSeed:
    spec: PresetSpec
    name: str
    # The campaign channel the preset serves; "" for a preset a campaign can only name by slug.
    channel: str


DEFAULT_PRESET_SEEDS: tuple[PresetSeed, ...] = (
    PresetSeed(PresetSpec("square", 1080, 1080), "Square 1:1", "square"),
    PresetSeed(PresetSpec("social", 1080, 1350), "Social 4:5", "social"),
    PresetSeed(
        PresetSpec("vertical", 1080, 1920, safe_area=SafeArea(top=0.14, bottom=0.20)),
        "Vertical 9:16",
        "vertical",
    ),
    PresetSeed(PresetSpec("widescreen", 1920, 1080), "Widescreen 16:9", "widescreen"),
    PresetSeed(
        PresetSpec("hero", 2400, 800, quality=82, max_bytes=800_000), "Hero banner 3:1", "hero"
    ),
    PresetSeed(
        PresetSpec("hero_wide", 2520, 1080, quality=82, max_bytes=900_000),
        "Hero banner 21:9",
        "hero",
    ),
    PresetSeed(PresetSpec("product_card", 2048, 2048, quality=90), "Product card", "product_card"),
    PresetSeed(
        PresetSpec("youtube_thumbnail", 1280, 720, max_bytes=2_000_000), "YouTube thumbnail", ""
    ),
    PresetSeed(PresetSpec("link_image", 1200, 630, max_bytes=1_000_000), "Link image", ""),
    PresetSeed(
        PresetSpec("presentation", 1920, 1080, quality=90), "Presentation 16:9", "presentation"
    ),
)

DEFAULT_PRESETS: tuple[PresetSpec, ...] = tuple(seed.spec for seed in DEFAULT_PRESET_SEEDS)
