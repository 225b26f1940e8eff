"""A campaign's channel targets: the one way checks, upscales, exports and the pages learn the
sizes and names of the channels a campaign is delivered to.

The sizes and names are the staff-editable channel presets (``apps.exports.ChannelPreset``).
Dependencies run one way, into exports (exports imports campaigns and upscales; campaigns,
checks and upscales must not import exports), so exports registers the provider in its
``AppConfig.ready()``, the way apps plug panels and hooks into the rest.

A campaign's ``target_channels`` values name a channel (``"hero"`` picks every preset serving
it: ``hero`` and ``hero_wide``) or a preset by slug (``"youtube_thumbnail"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.campaigns.models import Campaign


@dataclass(frozen=True)
class ChannelTarget:
    """One output size a campaign is delivered at (one channel preset)."""

    channel: str  # the campaign channel the preset serves; "" for a preset named by slug only
    slug: str  # the preset's slug, unique among targets
    label: str  # the preset's name, as staff wrote it
    width: int
    height: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def aspect_label(self) -> str:
        divisor = math.gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"


ChannelTargetsProvider = Callable[["Campaign"], list[ChannelTarget]]
_PROVIDERS: list[ChannelTargetsProvider] = []


def register_channel_targets(provider: ChannelTargetsProvider) -> None:
    """Called by the app that owns the channel presets, in its ``ready()``."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


ChannelsChangedListener = Callable[[list[int] | None], None]
_CHANGED_LISTENERS: list[ChannelsChangedListener] = []


def register_channels_changed(listener: ChannelsChangedListener) -> None:
    """Called in an app's ``ready()`` by whoever keeps results judged on channel sizes (the
    checks' placement rows): ``listener(campaign_ids)`` hears which campaigns' targets changed,
    ``None`` meaning every campaign (a preset was edited)."""
    if listener not in _CHANGED_LISTENERS:
        _CHANGED_LISTENERS.append(listener)


def channels_changed(campaign_ids: list[int] | None) -> None:
    """Say that the targets of ``campaign_ids`` (``None``: of every campaign) changed: a preset
    was added, edited or removed, or a campaign's target channels were edited."""
    for listener in _CHANGED_LISTENERS:
        listener(campaign_ids)


def campaign_channel_targets(campaign: Campaign) -> list[ChannelTarget]:
    """Every output size the campaign's target channels pick, in the presets' order; empty when
    it names no channel (or none that a preset serves)."""
    if not campaign.target_channels:
        return []
    return [target for provider in _PROVIDERS for target in provider(campaign)]


def campaign_channel_labels(campaign: Campaign) -> list[str]:
    """The names of what the campaign targets, in its order: a channel reads as the names of its
    presets; a value no preset serves is shown as written, so a typo stays visible."""
    targets = campaign_channel_targets(campaign)
    labels: list[str] = []
    for value in map(str, campaign.target_channels or []):
        picked = [t.label for t in targets if value in (t.channel, t.slug)]
        labels.extend(picked or [value])
    return list(dict.fromkeys(labels))


def channel_choices(current: list[str] | None = None) -> list[tuple[str, str]]:
    """What the campaign form offers as target channels: each channel, named with the presets
    it picks ("Hero banner 3:1 — Hero banner, Hero banner 21:9"), then any value the campaign
    already has that is not a channel (a preset slug set in the admin), so saving the form
    never drops it."""
    from apps.campaigns.models import Campaign, Channel

    every = campaign_channel_targets(Campaign(target_channels=list(Channel.values)))
    choices = []
    for value, label in Channel.choices:
        presets = [t.label for t in every if t.channel == value]
        choices.append((value, f"{label} — {', '.join(presets)}" if presets else str(label)))
    extra = [v for v in current or [] if v not in Channel.values]
    return choices + [(v, v) for v in extra]
