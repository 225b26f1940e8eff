"""Near-duplicates: a 64-bit DCT hash (pHash) of the upright picture and the sets of drafts
whose hashes are a few bits apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from workers.checks.outcomes import PASS, WARN, Outcome

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
