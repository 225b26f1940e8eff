"""Automatic technical checks: a decoded draft in, numbers and verdicts a reviewer can read out.

Framework-free (Pillow and numpy only) so the measures can be tested and calibrated on images
built in the tests. Every check returns an :class:`Outcome`: the measured value, the threshold it
was judged against, pass / warn / fail and one sentence that says what it means for the work.

What is measured where:

* Resolution and crop fit use the draft's real pixel size, never the reduced decode.
* Blockiness and noise are measured on (a crop of) the pixels as stored: before any resize, so
  the JPEG 8×8 grid and the grain are still there. A large JPEG is decoded with shrink-on-load;
  the DCT-domain reduction keeps the block edges (an 8×8 block becomes 4×4 at ½), so the grid
  period follows the reduction.
* Softness is measured at one fixed viewing size (``SOFTNESS_SIDE`` on the long side), so a
  2048 px draft and a 1024 px draft are judged by how they look at the same size.
* The perceptual hash is a 64-bit DCT hash (pHash) of the upright picture.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

Status = Literal["pass", "warn", "fail"]
PASS: Status = "pass"  # noqa: S105 (a status, not a password)
WARN: Status = "warn"
FAIL: Status = "fail"
_RANK: dict[str, int] = {PASS: 0, WARN: 1, FAIL: 2}

# --- placements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    key: str
    label: str
    width: int
    height: int

    @property
    def aspect_label(self) -> str:
        divisor = math.gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"


# The pixel sizes each channel is delivered at. Keys are the campaign's channel values.
PLACEMENTS: dict[str, Placement] = {
    p.key: p
    for p in (
        Placement("square", "Square post", 1080, 1080),
        Placement("social", "Social 4:5", 1080, 1350),
        Placement("vertical", "Vertical story", 1080, 1920),
        Placement("widescreen", "Widescreen", 1920, 1080),
        Placement("hero", "Hero banner", 2400, 800),
        Placement("product_card", "Product card", 2048, 2048),
        Placement("presentation", "Presentation slide", 1920, 1080),
    )
}

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


@dataclass(frozen=True)
class Outcome:
    key: str  # unique per draft, e.g. "resolution.hero"
    kind: str  # resolution | crop | softness | blockiness | noise | duplicate | colour
    label: str
    status: Status
    value: float | None
    threshold: float | None
    value_label: str
    threshold_label: str
    explanation: str


def worst(statuses: Iterable[str]) -> Status:
    rank = max((_RANK.get(status, 0) for status in statuses), default=0)
    return (PASS, WARN, FAIL)[rank]


def _grade(value: float, warn_at: float, fail_at: float, *, higher_is_worse: bool) -> Status:
    if higher_is_worse:
        return FAIL if value > fail_at else WARN if value > warn_at else PASS
    return FAIL if value < fail_at else WARN if value < warn_at else PASS


def _times(factor: float) -> str:
    return f"×{factor:.1f}" if factor < 10 else f"×{factor:.0f}"


def check_resolution(width: int, height: int, placement: Placement) -> Outcome:
    """The upscale needed for the draft to cover the placement (after its crop)."""
    by_width, by_height = placement.width / width, placement.height / height
    factor = max(by_width, by_height)
    need = f"{placement.width} px wide" if by_width >= by_height else f"{placement.height} px tall"
    status = _grade(factor, UPSCALE_PASS, UPSCALE_FAIL, higher_is_worse=True)
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
    name = f"{placement.label} ({placement.aspect_label})"
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


def placement_checks(width: int, height: int, channels: Sequence[str]) -> list[Outcome]:
    """Resolution and crop fit for each known channel, in the campaign's order."""
    placements = [PLACEMENTS[c] for c in dict.fromkeys(channels) if c in PLACEMENTS]
    return [check_resolution(width, height, p) for p in placements] + [
        check_crop(width, height, p) for p in placements
    ]


# --- decoding --------------------------------------------------------------------------------

# JPEGs are decoded with shrink-on-load to about this long side: enough for the softness
# measure at SOFTNESS_SIDE (a downscale, never an upscale) at a fraction of a full decode.
DECODE_SIDE = 1600
# Blockiness and noise look at stored pixels; a bounded centre crop keeps a 20 000 px PNG from
# costing gigabytes of float arrays while still covering millions of pixels.
NATIVE_CROP = 2048
# Alpha is flattened onto mid-grey: transparent areas become flat, which adds no detail,
# no edges and no noise to any measure.
_FLATTEN_GREY = 128


class CheckError(ValueError):
    """The image could not be decoded for checking."""


@dataclass(frozen=True)
class DecodedDraft:
    """Grey pixels for the measures: ``native`` in stored orientation and at the decoded scale,
    ``upright`` the same picture turned by its EXIF orientation."""

    native: np.ndarray  # float32, 0..255, a centre crop of at most NATIVE_CROP²
    upright: Image.Image  # mode "L", the whole picture
    reduction: int  # 1, 2, 4 or 8: how much shrink-on-load reduced each side
    grid_offset: tuple[int, int]  # (x, y) of the crop's origin within the block grid


def decode_for_checks(data: bytes, *, decode_side: int = DECODE_SIDE) -> DecodedDraft:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                stored_width = im.width
                if im.format in ("JPEG", "MPO"):
                    scale = decode_side / max(im.size)
                    if scale < 1.0:
                        im.draft(
                            None,
                            (
                                max(1, math.ceil(im.width * scale)),
                                max(1, math.ceil(im.height * scale)),
                            ),
                        )
                im.load()
                grey = _grey(im)
                exif = im.getexif()
    except Exception as exc:  # any decoder failure means "cannot check"
        raise CheckError(f"The image could not be decoded: {exc}") from exc
    reduction = max(1, round(stored_width / grey.width))
    native, offset = _centre_crop(grey, NATIVE_CROP, block=max(1, 8 // reduction))
    orientation = exif.get(0x0112, 1) if exif else 1
    upright = grey
    if orientation in range(2, 9):
        # exif_transpose needs the EXIF on the image it turns; the grey copy lost it.
        grey.info["exif"] = exif.tobytes()
        try:
            upright = ImageOps.exif_transpose(grey)
        except Exception:  # unreadable EXIF counts as upright, as it does at intake
            upright = grey
    return DecodedDraft(native=native, upright=upright, reduction=reduction, grid_offset=offset)


def _grey(im: Image.Image) -> Image.Image:
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(im.convert("I") if mode != "I" else im, dtype=np.float64)
        return Image.fromarray(np.clip(values / 257.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if mode == "F":
        values = np.asarray(im, dtype=np.float64)
        return Image.fromarray(np.clip(values * 255.0, 0, 255).astype(np.uint8), "L")
    if mode in ("P", "PA"):
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (_FLATTEN_GREY,) * 3 + (255,))
        return Image.alpha_composite(background, rgba).convert("L")
    return im.convert("L")


def _centre_crop(grey: Image.Image, side: int, *, block: int) -> tuple[np.ndarray, tuple[int, int]]:
    width, height = grey.size
    # The crop starts on a block boundary, so the grid stays at multiples of ``block``.
    left = max(0, (width - side) // 2) // block * block
    top = max(0, (height - side) // 2) // block * block
    box = (left, top, min(width, left + side), min(height, top + side))
    return np.asarray(grey.crop(box), dtype=np.float32), (left, top)


# --- softness --------------------------------------------------------------------------------

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
    return _graded(
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


def _graded(
    key: str,
    label: str,
    value: float,
    *,
    warn_at: float,
    fail_at: float,
    higher_is_worse: bool,
    digits: int,
    value_label: str,
    explanations: tuple[str, str, str],
) -> Outcome:
    """One measured check graded against its warn and fail thresholds."""
    status = _grade(value, warn_at, fail_at, higher_is_worse=higher_is_worse)
    compare = ("≤", ">") if higher_is_worse else ("≥", "<")
    return Outcome(
        key=key,
        kind=key,
        label=label,
        status=status,
        value=round(value, digits),
        threshold=fail_at,
        value_label=value_label,
        threshold_label=f"pass {compare[0]} {warn_at:g}, fail {compare[1]} {fail_at:g}",
        explanation=explanations[{PASS: 0, WARN: 1}.get(status, 2)],
    )


# --- compression and noise -------------------------------------------------------------------

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
    return _graded(
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
    return _graded(
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


# --- near-duplicates -------------------------------------------------------------------------

# pHash: the signs of the 8×8 lowest DCT frequencies of a 32×32 grey thumbnail against their
# median. Resizing, re-encoding, blur and brightness changes move a few bits; different pictures
# differ in about half of the 64. Calibrated on the demo drafts and five photographs: half-size,
# JPEG-75, blurred (σ 2) and brightened (+20) copies are 0 … 4 bits from their originals, a 5 %
# trim on every side 4 … 18; the closest different pictures, two demo bottles drawn from one
# layout, are 10 apart and the next 14. 8 bits keeps every copy together and those apart.
NEAR_DUPLICATE_BITS = 8
_HASH_SIDE = 32
_HASH_LOW = 8
# A thumbnail with less contrast than this has no structure to hash (a flat colour).
_FLAT_STD = 1.0


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    n = _HASH_SIDE
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0, :] = np.sqrt(1.0 / n)
    return matrix


def perceptual_hash(image: Image.Image) -> int | None:
    """64-bit pHash of a grey picture, or None when it is too flat to say anything."""
    small = image.convert("L").resize((_HASH_SIDE, _HASH_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.float64)
    if pixels.std() < _FLAT_STD:
        return None
    dct = _dct_matrix()
    low = (dct @ pixels @ dct.T)[:_HASH_LOW, :_HASH_LOW].flatten()
    # The DC term is the mean brightness: left out of the median so it cannot skew the split.
    bits = low > np.median(low[1:])
    return int(sum(1 << index for index, bit in enumerate(bits) if bit))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class DuplicateInfo:
    group: int | None  # the smallest id in the set; None when the draft stands alone
    size: int  # drafts in the set, itself included
    nearest: int | None  # bits to the closest other draft


def duplicate_groups(
    hashes: Sequence[tuple[int, int]], *, max_bits: int = NEAR_DUPLICATE_BITS
) -> dict[int, DuplicateInfo]:
    """Sets of near-duplicates among ``(id, hash)`` pairs: ids linked by chains of pairs at
    most ``max_bits`` apart. Pairwise in blocks, so memory stays flat for large campaigns."""
    ids = [item_id for item_id, _ in hashes]
    if not ids:
        return {}
    values = np.array([h & 0xFFFF_FFFF_FFFF_FFFF for _, h in hashes], dtype=np.uint64)
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    nearest = np.full(len(ids), 65, dtype=np.int64)
    block = 512
    for start in range(0, len(ids), block):
        rows = values[start : start + block]
        distances = np.bitwise_count(rows[:, None] ^ values[None, :]).astype(np.int64)
        for offset in range(len(rows)):
            distances[offset, start + offset] = 65  # not its own neighbour
        nearest[start : start + len(rows)] = distances.min(axis=1)
        for row, col in zip(*np.nonzero(distances <= max_bits), strict=True):
            a, b = find(start + int(row)), find(int(col))
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for index in range(len(ids)):
        members.setdefault(find(index), []).append(index)
    result: dict[int, DuplicateInfo] = {}
    for indexes in members.values():
        group = min(ids[i] for i in indexes) if len(indexes) > 1 else None
        for i in indexes:
            closest = int(nearest[i])
            result[ids[i]] = DuplicateInfo(
                group=group, size=len(indexes), nearest=closest if closest <= 64 else None
            )
    return result


def check_duplicates(info: DuplicateInfo | None, *, hashed: bool) -> Outcome:
    if not hashed or info is None:
        return Outcome(
            key="duplicate",
            kind="duplicate",
            label="Near-duplicates",
            status=PASS,
            value=None,
            threshold=float(NEAR_DUPLICATE_BITS),
            value_label="not compared",
            threshold_label=f"duplicate ≤ {NEAR_DUPLICATE_BITS} of 64 bits",
            explanation="Almost a flat colour: too little structure to compare with others.",
        )
    others = info.size - 1
    if others:
        explanation = (
            f"Looks like {others} other draft{'s' if others > 1 else ''} in this campaign: "
            "compare the set and keep the best one."
        )
    else:
        explanation = "No near-duplicate in this campaign."
    return Outcome(
        key="duplicate",
        kind="duplicate",
        label="Near-duplicates",
        status=WARN if others else PASS,
        value=float(info.nearest) if info.nearest is not None else None,
        threshold=float(NEAR_DUPLICATE_BITS),
        value_label=(f"set of {info.size}" if others else "unique")
        + (f", closest {info.nearest} bits" if info.nearest is not None else ""),
        threshold_label=f"duplicate ≤ {NEAR_DUPLICATE_BITS} of 64 bits",
        explanation=explanation,
    )


# --- colour and format -----------------------------------------------------------------------

_WIDE_GAMUT = ("p3", "adobe", "prophoto", "rec2020", "rec. 2020", "bt.2020", "wide")


def format_checks(
    *,
    fmt: str,
    mode: str,
    bit_depth: int,
    has_alpha: bool,
    has_icc: bool,
    icc_description: str,
) -> list[Outcome]:
    """Facts about colour and format recorded at intake, each with what it means downstream."""
    out = []
    base = {"RGBA": "RGB", "LA": "L", "PA": "P", "RGBa": "RGB", "La": "L"}.get(mode, mode)
    if base in ("RGB",):
        status, text = PASS, "RGB colour, ready for screen channels."
    elif base in ("L", "I;16", "I", "1", "I;16B", "I;16L", "I;16N"):
        status, text = WARN, "Greyscale: fine if intended; channel exports will be RGB."
    elif base == "CMYK":
        status, text = (
            WARN,
            (
                "CMYK print colours: converted to sRGB for screen channels, so check saturated "
                "colours after conversion."
            ),
        )
    elif base == "P":
        status, text = WARN, "Palette image (256 colours at most): gradients may band."
    else:
        status, text = WARN, f"Unusual colour mode {mode}: converted to RGB for exports."
    out.append(
        Outcome(
            key="colour.mode",
            kind="colour",
            label="Colour mode",
            status=status,
            value=None,
            threshold=None,
            value_label=f"{fmt} · {mode}",
            threshold_label="RGB expected",
            explanation=text,
        )
    )
    out.append(
        Outcome(
            key="colour.alpha",
            kind="colour",
            label="Transparency",
            status=WARN if has_alpha else PASS,
            value=1.0 if has_alpha else 0.0,
            threshold=None,
            value_label="alpha channel" if has_alpha else "opaque",
            threshold_label="opaque expected",
            explanation=(
                "Has transparent areas: JPEG channels flatten them onto the preset background."
                if has_alpha
                else "Opaque: no transparency to handle."
            ),
        )
    )
    description = icc_description.strip()
    lowered = description.lower()
    if not has_icc:
        status, text, shown = PASS, "No colour profile: treated as sRGB.", "none (sRGB)"
    elif "srgb" in lowered or "iec61966" in lowered:
        status, text, shown = PASS, "sRGB profile, as every channel expects.", description
    elif any(word in lowered for word in _WIDE_GAMUT):
        status, text, shown = (
            WARN,
            (
                "Wide-gamut profile: converted to sRGB on export; the most saturated colours will "
                "shift."
            ),
            description,
        )
    else:
        status, text, shown = (
            WARN,
            ("A profile other than sRGB: converted to sRGB on export, so compare colours after."),
            description or "embedded",
        )
    out.append(
        Outcome(
            key="colour.icc",
            kind="colour",
            label="Colour profile",
            status=status,
            value=1.0 if has_icc else 0.0,
            threshold=None,
            value_label=shown[:60],
            threshold_label="sRGB or none",
            explanation=text,
        )
    )
    if bit_depth >= 16:
        status, text = PASS, "16 bits per channel: kept through the upscale, 8-bit for the web."
    elif bit_depth >= 8:
        status, text = PASS, "8 bits per channel, the usual for delivery."
    else:
        status, text = WARN, f"Only {bit_depth} bit(s) per channel: smooth tones will band."
    out.append(
        Outcome(
            key="colour.depth",
            kind="colour",
            label="Bit depth",
            status=status,
            value=float(bit_depth),
            threshold=8.0,
            value_label=f"{bit_depth}-bit",
            threshold_label="8-bit or more",
            explanation=text,
        )
    )
    return out


# --- all together ----------------------------------------------------------------------------


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
