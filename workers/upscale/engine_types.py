"""Engine types that the web process may import without torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int], bool]  # (tiles done, tiles total) -> keep going?
# Called while a job waits for its turn on the device, with the seconds waited so far, when the
# device is taken and about once a second after that -> keep waiting? (False cancels the job.)
DeviceWait = Callable[[float], bool]


class UpscaleCancelled(Exception):
    """The progress callback asked to stop."""


class DeviceBusy(RuntimeError):
    """Another job kept the device for longer than this job would wait; the message is for
    people."""


@dataclass
class TileOptions:
    tile: int | None = None  # input pixels per tile side; None: chosen from free memory
    overlap: int = 16  # input pixels of context on each side of a tile
    # Pixels reflected on each side of the image (at most ``overlap``): see engine's docstring.
    border: int = 10
    batch: int | None = None  # tiles per forward pass; None: chosen from free memory
    min_tile: int = 32
    before_forward: Callable[[tuple[int, ...]], None] | None = None


@dataclass
class InferStats:
    tile: int = 0
    overlap: int = 0
    batch: int = 0
    tiles: int = 0
    forward_passes: int = 0
    oom_recoveries: int = 0
    events: list[str] = field(default_factory=list)
    processed_pixels: int = 0  # input pixels the network ran on: tiles × their span
    image_pixels: int = 0

    @property
    def processed_ratio(self) -> float:
        """Pixels the network ran on per image pixel (border, overlaps and rounding included)."""
        return self.processed_pixels / self.image_pixels if self.image_pixels else 0.0


@dataclass(frozen=True)
class TileGeometry:
    """Where an image's tiles go, in the padded image: ``border`` reflected pixels before the
    image on the top and left, ``pad_bottom`` / ``pad_right`` after it (the border plus any
    fill up to the last tile). Tile (r, c) is the ``span_h`` × ``span_w`` window at
    (``ys[r]``, ``xs[c]``); neighbours overlap by at least ``2 * context`` pixels."""

    span_h: int
    span_w: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]
    context: int
    border: int
    pad_bottom: int
    pad_right: int

    @property
    def tiles(self) -> int:
        return len(self.ys) * len(self.xs)

    @property
    def processed_pixels(self) -> int:
        return self.tiles * self.span_h * self.span_w
