"""Resolution and crop fit of a draft for each channel size it is delivered at.

Judged on the draft's real pixel size, never the reduced decode. The sizes come from the
caller (the campaign's channel presets); this module holds none."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from workers.checks.outcomes import PASS, WARN, Outcome, grade


@dataclass(frozen=True)
class Placement:
    """One size the draft is delivered at (a channel preset), given by the caller."""

    key: str  # unique among the draft's placements; outcome keys are "resolution.<key>"
    label: str
    width: int
    height: int

    @property
    def aspect_label(self) -> str:
        divisor = math.gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"


# The ×2 upscaler restores detail well; ×4 is the largest model we run and already invents
# texture; past ×4 no upscale gives a usable master, so the draft cannot serve the placement.
UPSCALE_PASS = 2.0
UPSCALE_FAIL = 4.0

# Share of the picture a placement's aspect ratio cuts away. A 4:5 crop from a square (20 %)
# is routine. Past half the picture the composition has to be rebuilt (outpaint, or regenerate
# in the placement's shape) rather than cropped; that is said in words, but it stays a warning:
# a square draft can never fill a 3:1 banner, so a failure would only restate the campaign's
# channel mix on every tile and drown the failures a reviewer can act on.
CROP_PASS = 0.20
CROP_REBUILD = 0.50


def _times(factor: float) -> str:
    return f"×{factor:.1f}" if factor < 10 else f"×{factor:.0f}"


def check_resolution(width: int, height: int, placement: Placement) -> Outcome:
    """The upscale needed for the draft to cover the placement (after its crop)."""
    by_width, by_height = placement.width / width, placement.height / height
    factor = max(by_width, by_height)
    need = f"{placement.width} px wide" if by_width >= by_height else f"{placement.height} px tall"
    status = grade(factor, UPSCALE_PASS, UPSCALE_FAIL, higher_is_worse=True)
    name = placement.label
    if factor <= 1.0:
        explanation = f"{name} needs {need}: this draft already has enough pixels."
    elif status == PASS:
        explanation = f"{name} needs {need}: {_times(factor)} from this draft, a routine upscale."
    elif status == WARN:
        explanation = (
            f"{name} needs {need}: {_times(factor)} from this draft; only the ×4 upscale "
            "gets there, so check fine detail at 100 %."
        )
    else:
        explanation = (
            f"{name} needs {need}: {_times(factor)} from this draft, more than the ×4 an "
            "upscale can give. Regenerate at a larger size."
        )
    return Outcome(
        key=f"resolution.{placement.key}",
        kind="resolution",
        label=f"{name} resolution",
        status=status,
        value=round(factor, 3),
        threshold=UPSCALE_FAIL,
        value_label=_times(factor) if factor > 1.0 else "no upscale",
        threshold_label=f"pass ≤ ×{UPSCALE_PASS:g}, fail > ×{UPSCALE_FAIL:g}",
        explanation=explanation,
    )


def check_crop(width: int, height: int, placement: Placement) -> Outcome:
    """How much of the picture the placement's aspect ratio cuts away (centred crop)."""
    ratio, target = width / height, placement.width / placement.height
    cut = 1.0 - min(ratio, target) / max(ratio, target)
    status = PASS if cut <= CROP_PASS else WARN
    where = "left and right" if ratio > target else "top and bottom"
    kept = 1.0 - cut
    aspect = placement.aspect_label
    # Preset names often carry their ratio already ("Square 1:1"): not said twice.
    name = placement.label if aspect in placement.label else f"{placement.label} ({aspect})"
    if cut < 0.005:
        explanation = f"{name} fits this draft's shape: nothing is cut away."
    elif cut > CROP_REBUILD:
        explanation = (
            f"{name} keeps only {kept:.0%} of the picture, cutting {cut:.0%} from the {where}: "
            "extend or regenerate in this shape rather than crop."
        )
    else:
        explanation = (
            f"{name} cuts {cut:.0%} from the {where}; the subject must sit inside the middle "
            f"{kept:.0%}."
        )
    return Outcome(
        key=f"crop.{placement.key}",
        kind="crop",
        label=f"{placement.label} crop",
        status=status,
        value=round(cut, 4),
        threshold=CROP_PASS,
        value_label=f"{cut:.0%} cut",
        threshold_label=f"pass ≤ {CROP_PASS:.0%}, rebuild > {CROP_REBUILD:.0%}",
        explanation=explanation,
    )


def placement_checks(width: int, height: int, placements: Sequence[Placement]) -> list[Outcome]:
    """Resolution and crop fit for each placement, in the order given."""
    return [check_resolution(width, height, p) for p in placements] + [
        check_crop(width, height, p) for p in placements
    ]
