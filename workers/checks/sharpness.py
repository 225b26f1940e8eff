"""Softness, measured at one fixed viewing size (``SOFTNESS_SIDE`` on the long side), so a
2048 px draft and a 1024 px draft are judged by how they look at the same size."""

from __future__ import annotations

import numpy as np
from PIL import Image

from workers.checks.outcomes import Outcome, graded

# The viewing size softness is judged at: about a laptop screen's worth of picture.
SOFTNESS_SIDE = 1024
# Detail is the variance of the Laplacian per tile; the score is the 90th percentile over a
# 16×16 grid of tiles, i.e. "how crisp are the crispest tenth of the picture". A product shot
# with a sharp subject on a smooth, out-of-focus backdrop scores on its subject, while a draft
# that is soft everywhere has no crisp tiles at all.
SOFTNESS_TILES = 16
SOFTNESS_PERCENTILE = 90
# Calibrated on the ten demo drafts (1024 px) and six photographs (skimage's camera, astronaut,
# coffee, chelsea, rocket, immunohistochemistry; 300 … 640 px, so enlarged) blurred with
# Gaussian σ 0.5 … 4 before measuring:
#   originals 52 … 2450 (the demo's deliberately soft draft 1.4); σ 0.5: 27 … 780;
#   σ 1 (soft at 100 %): 4 … 74, most under 40; σ 2 (soft at fit size): 1.2 … 7.8.
# So below 40 reads as soft at 100 % (warn) and below 10 as soft even at fit size (fail).
# The measure is content-dependent (a misty, low-contrast scene scores lower than a busy one)
# and grain raises it, which is why the panel shows it beside the noise estimate.
SOFTNESS_WARN = 40.0
SOFTNESS_FAIL = 10.0


def sharpness(image: Image.Image) -> float:
    """Detail score of a grey picture at the fixed viewing size (higher is crisper)."""
    width, height = image.size
    scale = SOFTNESS_SIDE / max(width, height)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    # Smaller drafts are enlarged to the viewing size on purpose: that is how they will look,
    # and the softness an enlargement brings is part of what the reviewer needs to know.
    resample = Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.LANCZOS
    grey = np.asarray(image.resize(size, resample, reducing_gap=3.0), dtype=np.float32)
    lap = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]
    rows = np.array_split(np.arange(lap.shape[0]), SOFTNESS_TILES)
    cols = np.array_split(np.arange(lap.shape[1]), SOFTNESS_TILES)
    tiles = [
        float(lap[r[0] : r[-1] + 1, c[0] : c[-1] + 1].var())
        for r in rows
        if len(r)
        for c in cols
        if len(c)
    ]
    return float(np.percentile(tiles, SOFTNESS_PERCENTILE))


def check_softness(score: float) -> Outcome:
    return graded(
        "softness",
        "Sharpness",
        score,
        warn_at=SOFTNESS_WARN,
        fail_at=SOFTNESS_FAIL,
        higher_is_worse=False,
        digits=2,
        value_label=f"{score:.0f}",
        explanations=(
            "Fine detail is crisp where it matters.",
            "Detail is slightly soft even in the sharpest areas: check edges and text at 100 %.",
            "Soft everywhere, even at fit size: an upscale will not bring the detail back.",
        ),
    )
