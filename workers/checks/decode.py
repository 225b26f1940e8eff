"""One decode of a draft for the pixel measures: grey pixels as stored (a bounded centre crop)
and the upright picture.

Blockiness and noise are measured on (a crop of) the pixels as stored: before any resize, so
the JPEG 8×8 grid and the grain are still there. A large JPEG is decoded with shrink-on-load;
the DCT-domain reduction keeps the block edges (an 8×8 block becomes 4×4 at ½), so the grid
period follows the reduction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from workers.imaging.decode import apply_orientation, decode

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
        # Stored orientation: blockiness and noise need the pixels as the encoder laid them out.
        decoded = decode(data, shrink_to=decode_side, upright=False)
        grey = _grey(decoded.image)
    except Exception as exc:  # any decoder failure means "cannot check"
        raise CheckError(f"The image could not be decoded: {exc}") from exc
    native, offset = _centre_crop(grey, NATIVE_CROP, block=max(1, 8 // decoded.reduction))
    upright = apply_orientation(grey, decoded.orientation)
    return DecodedDraft(
        native=native, upright=upright, reduction=decoded.reduction, grid_offset=offset
    )


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
