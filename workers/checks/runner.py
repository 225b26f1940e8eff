"""The pixel measures of one decoded draft, and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from workers.checks.blockiness import blockiness, check_blockiness
from workers.checks.decode import DecodedDraft
from workers.checks.duplicates import perceptual_hash
from workers.checks.noise import check_noise, noise_sigma
from workers.checks.outcomes import Outcome
from workers.checks.sharpness import check_softness, sharpness


@dataclass(frozen=True)
class Measurements:
    sharpness: float
    blockiness: float
    noise: float
    phash: int | None


def measure(decoded: DecodedDraft) -> Measurements:
    """The pixel measures, from one decode."""
    reduction = decoded.reduction
    period = 8 // reduction if reduction in (1, 2, 4, 8) else 0
    offset = decoded.grid_offset
    return Measurements(
        sharpness=sharpness(decoded.upright),
        blockiness=blockiness(
            decoded.native,
            period=period,
            offset=(offset[0] % max(1, period), offset[1] % max(1, period)),
        ),
        # Shrink-on-load averages reduction² stored pixels into one, dividing the noise by
        # about ``reduction``; scaling back keeps large JPEGs comparable with small ones.
        noise=noise_sigma(decoded.native) * reduction,
        phash=perceptual_hash(decoded.upright),
    )


def pixel_checks(measured: Measurements) -> list[Outcome]:
    return [
        check_softness(measured.sharpness),
        check_blockiness(measured.blockiness),
        check_noise(measured.noise),
    ]
