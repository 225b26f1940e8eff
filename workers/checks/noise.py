"""Noise: the grain in the flatter parts of the picture, in grey levels."""

from __future__ import annotations

import math

import numpy as np

from workers.checks.outcomes import Outcome, graded

# Noise: Immerkær's fast estimator (a second-difference mask that cancels flat areas and smooth
# ramps) per 32×32 tile; the score is the 25th percentile over tiles, i.e. the noise in the
# flatter parts of the picture, where texture and edges cannot pass for noise. In grey levels
# (σ of the luminance). Calibrated with Gaussian noise added per RGB channel to the test set:
# σ 5 per channel reads 3.2 … 3.7, σ 10 reads 6.2 … 6.7, σ 20 reads 11 … 13 (luminance
# averages the channels: 0.67 σ); clean demo drafts read 0.0 and the photographs 0.3 … 1.3.
# Per-channel grain of σ 5 shows on flat colour at 100 %; σ 12 shows at fit size, and an
# upscaler turns it into crawling texture.
NOISE_WARN = 3.0
NOISE_FAIL = 8.0
_NOISE_TILE = 32
_NOISE_PERCENTILE = 25


def noise_sigma(native: np.ndarray) -> float:
    """Estimated standard deviation of the noise, in 8-bit grey levels."""
    if native.shape[0] < 3 or native.shape[1] < 3:
        return 0.0
    img = native
    response = np.abs(
        img[:-2, :-2]
        - 2 * img[:-2, 1:-1]
        + img[:-2, 2:]
        - 2 * img[1:-1, :-2]
        + 4 * img[1:-1, 1:-1]
        - 2 * img[1:-1, 2:]
        + img[2:, :-2]
        - 2 * img[2:, 1:-1]
        + img[2:, 2:]
    )
    height, width = response.shape
    tile_h, tile_w = min(_NOISE_TILE, height), min(_NOISE_TILE, width)
    rows, cols = height // tile_h, width // tile_w
    tiles = (
        response[: rows * tile_h, : cols * tile_w]
        .reshape(rows, tile_h, cols, tile_w)
        .mean(axis=(1, 3))
    )
    # E|N * M| = 6·σ·√(2/π) for Gaussian noise N under the 3×3 mask M (its weights' squares
    # sum to 36).
    return float(np.percentile(tiles, _NOISE_PERCENTILE) * math.sqrt(math.pi / 2) / 6.0)


def check_noise(sigma: float) -> Outcome:
    return graded(
        "noise",
        "Noise",
        sigma,
        warn_at=NOISE_WARN,
        fail_at=NOISE_FAIL,
        higher_is_worse=True,
        digits=2,
        value_label=f"σ {sigma:.1f}",
        explanations=(
            "Clean: no visible grain or sensor-like noise.",
            "Some grain on flat colour at 100 %: fine if intended, denoise before upscaling.",
            "Strong noise, visible at fit size; an upscale will turn it into texture.",
        ),
    )
