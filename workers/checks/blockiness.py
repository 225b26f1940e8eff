"""JPEG compression blocks: steps on the 8×8 grid against steps inside the blocks."""

from __future__ import annotations

import numpy as np

from workers.checks.outcomes import Outcome, graded

# Blockiness: the mean step across block boundaries divided by the mean step inside blocks,
# horizontally and vertically. Steps over _EDGE_STEP levels are content edges, not blocks, and
# are left out (a few long straight edges on one row would otherwise decide the score). The
# reference is the larger of the mid-block step and the mean inside step, so content with its
# own 4- or 2-pixel period (gradients enlarged ×4, dithering) is not taken for an 8×8 grid.
# Calibrated on the demo drafts and five photographs (skimage's camera, astronaut, coffee,
# chelsea, rocket) saved as PNG and as JPEG:
#   PNG 0.90 … 1.31, quality 95 0.92 … 1.17, quality 75 1.19 … 1.85 (smooth synthetic
#   gradients show blocks first), quality 50 1.37 … 2.8, quality 25 1.55 … 4.7,
#   quality 10 1.98 and up.
# So warn above 1.4 (blocks show in smooth areas at 100 %), fail above 1.8 (visible at fit
# size, and an upscaler sharpens them into a grid).
BLOCKINESS_WARN = 1.4
BLOCKINESS_FAIL = 1.8
_EDGE_STEP = 24.0
# Steps inside flat areas are tiny; ratios of tiny numbers mean nothing.
_MIN_STEP = 0.05
_MAX_RATIO = 10.0


def blockiness(native: np.ndarray, *, period: int = 8, offset: tuple[int, int] = (0, 0)) -> float:
    """1.0 means no block grid; larger values mean stronger steps on the ``period`` grid."""
    if period < 2:
        return 1.0  # the grid was decoded away (1/8 shrink-on-load): nothing to measure
    ratios = []
    for axis, start in ((1, offset[0]), (0, offset[1])):
        steps = np.abs(np.diff(native, axis=axis))
        counted = steps <= _EDGE_STEP
        totals = np.where(counted, steps, 0.0).sum(axis=1 - axis)
        counts = counted.sum(axis=1 - axis)
        if totals.size < 2 * period:
            continue
        # totals[i] sums the steps between pixel i and i + 1; phase 0 is a block boundary.
        phase = (np.arange(totals.size) + start + 1) % period
        means = np.array(
            [totals[phase == k].sum() / max(1, counts[phase == k].sum()) for k in range(period)]
        )
        reference = max(float(means[period // 2]), float(means[1:].mean()))
        if reference < _MIN_STEP and means[0] < _MIN_STEP:
            continue  # flat along this axis: nothing to compare
        # Very heavy compression leaves blocks perfectly flat inside, so the reference can be
        # near zero; the floor and the cap keep such a grid a large, finite number.
        ratios.append(min(_MAX_RATIO, float(means[0]) / max(reference, _MIN_STEP)))
    return float(np.mean(ratios)) if ratios else 1.0


def check_blockiness(value: float) -> Outcome:
    return graded(
        "blockiness",
        "Compression blocks",
        value,
        warn_at=BLOCKINESS_WARN,
        fail_at=BLOCKINESS_FAIL,
        higher_is_worse=True,
        digits=3,
        value_label=f"{value:.2f}",
        explanations=(
            "No visible compression blocks.",
            "Faint 8×8 compression blocks in smooth areas: ask for a better export.",
            "Heavy JPEG compression: an 8×8 block grid shows, and upscaling will sharpen it.",
        ),
    )
