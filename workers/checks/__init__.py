"""Automatic technical checks: a decoded draft in, numbers and verdicts a reviewer can read out.

Framework-free (Pillow and numpy only) so the measures can be tested and calibrated on images
built in the tests. Every check returns an :class:`Outcome`: the measured value, the threshold it
was judged against, pass / warn / fail and one sentence that says what it means for the work.

One module per check; this package re-exports what the apps use:

* ``placement``: resolution and crop fit, from the draft's real pixel size and the channel
  sizes the caller passes in.
* ``decode``: one decode for the pixel measures (stored pixels and the upright picture).
* ``sharpness``, ``blockiness``, ``noise``: the pixel measures and their verdicts.
* ``duplicates``: the perceptual hash and near-duplicate sets.
* ``colour``: colour and format facts recorded at intake.
* ``runner``: all pixel measures from one decode.
"""

from workers.checks.blockiness import BLOCKINESS_FAIL, BLOCKINESS_WARN, blockiness, check_blockiness
from workers.checks.colour import format_checks
from workers.checks.decode import (
    DECODE_SIDE,
    NATIVE_CROP,
    CheckError,
    DecodedDraft,
    decode_for_checks,
)
from workers.checks.duplicates import (
    NEAR_DUPLICATE_BITS,
    DuplicateInfo,
    check_duplicates,
    duplicate_groups,
    hamming,
    perceptual_hash,
)
from workers.checks.noise import NOISE_FAIL, NOISE_WARN, check_noise, noise_sigma
from workers.checks.outcomes import FAIL, PASS, WARN, Outcome, Status, worst
from workers.checks.placement import (
    CROP_PASS,
    CROP_REBUILD,
    UPSCALE_FAIL,
    UPSCALE_PASS,
    Placement,
    check_crop,
    check_resolution,
    placement_checks,
)
from workers.checks.runner import Measurements, measure, pixel_checks
from workers.checks.sharpness import (
    SOFTNESS_FAIL,
    SOFTNESS_SIDE,
    SOFTNESS_WARN,
    check_softness,
    sharpness,
)

__all__ = [
    "BLOCKINESS_FAIL",
    "BLOCKINESS_WARN",
    "CROP_PASS",
    "CROP_REBUILD",
    "DECODE_SIDE",
    "FAIL",
    "NATIVE_CROP",
    "NEAR_DUPLICATE_BITS",
    "NOISE_FAIL",
    "NOISE_WARN",
    "PASS",
    "SOFTNESS_FAIL",
    "SOFTNESS_SIDE",
    "SOFTNESS_WARN",
    "UPSCALE_FAIL",
    "UPSCALE_PASS",
    "WARN",
    "CheckError",
    "DecodedDraft",
    "DuplicateInfo",
    "Measurements",
    "Outcome",
    "Placement",
    "Status",
    "blockiness",
    "check_blockiness",
    "check_crop",
    "check_duplicates",
    "check_noise",
    "check_resolution",
    "check_softness",
    "decode_for_checks",
    "duplicate_groups",
    "format_checks",
    "hamming",
    "measure",
    "noise_sigma",
    "perceptual_hash",
    "pixel_checks",
    "placement_checks",
    "sharpness",
    "worst",
]
