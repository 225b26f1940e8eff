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
