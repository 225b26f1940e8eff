"""Writes for channel presets: the default rows."""

from __future__ import annotations

from apps.exports.models import ChannelPreset


def preset_defaults_ensure() -> int:
    """Create any default preset that is missing (staff edits to existing ones are kept)."""
    from apps.exports.defaults import default_preset_rows

    created = 0
    for row in default_preset_rows():
        _, made = ChannelPreset.objects.get_or_create(slug=row["slug"], defaults=row)
        created += int(made)
    return created
