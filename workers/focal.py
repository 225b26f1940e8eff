"""Where the subject is, and how each channel's crop keeps it.

Framework-free: boxes are integer pixel rectangles in the master's upright coordinates (EXIF
orientation already applied), the same frame the rendering engine crops from.

* :func:`detect_focal` proposes a focal rectangle from a saliency map: colours that do not occur
  along the picture's border (the usual background of a product or portrait shot), plus local
  detail, with a mild centre prior. A person confirms or moves it.
* :func:`plan_crop` is the Wagtail way of filling a frame: the largest crop of the preset's
  aspect ratio, slid so that the focal rectangle keeps its relative position, then clamped so
  the focal rectangle sits inside the preset's safe area. What cannot be kept is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from workers.imaging.decode import decode, has_alpha, to_eight_bit

# Saliency works on a small copy: the subject of a picture is visible at thumbnail size.
_WORK_SIDE = 160
_BORDER = 0.08  # fraction of each side sampled as "background"
_BORDER_COLOURS = 48  # border colour samples the distance is measured against
_MASS = 0.04  # the focal box spans the 4th..96th percentile of the salient mass


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and self.right >= other.right
            and self.bottom >= other.bottom
        )

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]

    @classmethod
    def from_list(cls, values: list[int] | tuple[int, ...]) -> Box:
        x, y, width, height = (int(v) for v in values)
        return cls(x, y, width, height)

    def clamped(self, width: int, height: int) -> Box:
        """This box forced inside a ``width`` x ``height`` picture, at least 1 px."""
        x = min(max(0, self.x), width - 1)
        y = min(max(0, self.y), height - 1)
        return Box(x, y, max(1, min(self.width, width - x)), max(1, min(self.height, height - y)))


@dataclass(frozen=True)
class SafeArea:
    """Margins of the output frame, as fractions of its size, that the subject must stay out
    of (a story's header and reply bar, for one)."""

    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    left: float = 0.0

    def __post_init__(self) -> None:
        for value in (self.top, self.right, self.bottom, self.left):
            if not 0.0 <= value < 1.0:
                raise ValueError("safe-area margins are fractions from 0 to below 1")
        if self.top + self.bottom >= 1.0 or self.left + self.right >= 1.0:
            raise ValueError("safe-area margins leave no room for the subject")


@dataclass(frozen=True)
class FocalGuess:
    box: Box
    confidence: float  # 0..1: how clearly the subject stands out
    size: tuple[int, int]  # the upright picture the box refers to


@dataclass(frozen=True)
class CropPlan:
    box: Box
    warnings: tuple[str, ...] = ()


# --- saliency --------------------------------------------------------------------------------


def detect_focal(source: Image.Image | bytes) -> FocalGuess:
    """Propose the focal rectangle of an image, in the upright image's pixel coordinates."""
    image, (full_w, full_h) = _open_upright(source)
    small, alpha = _small_rgb(image)
    saliency = saliency_map(small, alpha)
    box_small, confidence = _salient_box(saliency)
    sx, sy = full_w / small.width, full_h / small.height
    box = Box(
        math.floor(box_small.x * sx),
        math.floor(box_small.y * sy),
        math.ceil(box_small.width * sx),
        math.ceil(box_small.height * sy),
    ).clamped(full_w, full_h)
    return FocalGuess(box=box, confidence=round(confidence, 3), size=(full_w, full_h))


def _open_upright(source: Image.Image | bytes) -> tuple[Image.Image, tuple[int, int]]:
    """The picture upright (maybe shrunk on load) and its full upright size."""
    if isinstance(source, Image.Image):
        return source, source.size
    # Shrink-on-load: the saliency map only needs a thumbnail.
    decoded = decode(source, shrink_to=_WORK_SIDE * 2)
    return decoded.image, decoded.size


def _small_rgb(image: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    image = to_eight_bit(image)
    with_alpha = has_alpha(image)
    image = image.convert("RGBA" if with_alpha else "RGB")
    small = image.copy()
    small.thumbnail((_WORK_SIDE, _WORK_SIDE), Image.Resampling.BILINEAR)
    if not with_alpha:
        return small, None
    alpha = np.asarray(small.getchannel("A"), dtype=np.float32) / 255.0
    return small.convert("RGB"), alpha


def saliency_map(image: Image.Image, alpha: np.ndarray | None = None) -> np.ndarray:
    """0..1 per pixel of an RGB image: how much it stands out from the picture's background."""
    blurred = image.filter(ImageFilter.GaussianBlur(1.2))
    lab = _srgb_to_lab(np.asarray(blurred, dtype=np.float32) / 255.0)
    height, width = lab.shape[:2]

    # Distinctiveness: distance to the nearest colour seen along the border.
    bw, bh = max(1, round(width * _BORDER)), max(1, round(height * _BORDER))
    border = np.concatenate(
        [
            lab[:bh].reshape(-1, 3),
            lab[-bh:].reshape(-1, 3),
            lab[:, :bw].reshape(-1, 3),
            lab[:, -bw:].reshape(-1, 3),
        ]
    )
    rng = np.random.default_rng(0)  # deterministic: the same image gets the same proposal
    samples = border[rng.choice(len(border), size=min(_BORDER_COLOURS, len(border)), replace=False)]
    flat = lab.reshape(-1, 1, 3)
    distance = np.sqrt(((flat - samples.reshape(1, -1, 3)) ** 2).sum(axis=2)).min(axis=1)
    distinct = distance.reshape(height, width)

    # Detail: local contrast of lightness, spread a little so textured subjects form a region.
    light = lab[..., 0]
    gy, gx = np.gradient(light)
    detail_img = Image.fromarray(np.clip(np.hypot(gx, gy) * 8, 0, 255).astype(np.uint8))
    detail = np.asarray(detail_img.filter(ImageFilter.BoxBlur(3)), dtype=np.float32)

    saliency = 0.75 * _normalise(distinct) + 0.25 * _normalise(detail)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = np.exp(
        -(((xx / width - 0.5) ** 2) + ((yy / height - 0.5) ** 2)) / (2 * 0.4**2)
    )  # a mild centre prior: ties go to the middle, a clear subject still wins at an edge
    saliency = saliency * (0.75 + 0.25 * centre)
    if alpha is not None:
        saliency = saliency * alpha
    return _normalise(saliency)


def _salient_box(saliency: np.ndarray) -> tuple[Box, float]:
    height, width = saliency.shape
    threshold = max(0.25, float(saliency.mean() + saliency.std()))
    mask = saliency >= threshold
    if mask.sum() < 4:
        # Nothing stands out: the middle third, with no confidence.
        return Box(width // 3, height // 3, max(1, width // 3), max(1, height // 3)), 0.0
    weights = np.where(mask, saliency, 0.0)
    x0, x1 = _mass_range(weights.sum(axis=0))
    y0, y1 = _mass_range(weights.sum(axis=1))
    inside = saliency[y0:y1, x0:x1].mean()
    outside_mask = np.ones_like(mask)
    outside_mask[y0:y1, x0:x1] = False
    outside = saliency[outside_mask].mean() if outside_mask.any() else 0.0
    confidence = float(np.clip((inside - outside) / max(inside, 1e-6), 0.0, 1.0))
    # A margin of 4 % of the picture so the proposal holds the subject, not just its core.
    pad_x, pad_y = max(1, round(width * 0.04)), max(1, round(height * 0.04))
    x0, y0 = max(0, x0 - pad_x), max(0, y0 - pad_y)
    x1, y1 = min(width, x1 + pad_x), min(height, y1 + pad_y)
    return Box(x0, y0, x1 - x0, y1 - y0), confidence


def _mass_range(profile: np.ndarray) -> tuple[int, int]:
    cumulative = np.cumsum(profile)
    total = cumulative[-1]
    start = int(np.searchsorted(cumulative, total * _MASS))
    end = int(np.searchsorted(cumulative, total * (1 - _MASS))) + 1
    return start, max(start + 1, min(len(profile), end))


def _normalise(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-6:
        return np.zeros_like(values, dtype=np.float32)
    return ((values - low) / (high - low)).astype(np.float32)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    matrix = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
        dtype=np.float32,
    )
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


# --- crops -----------------------------------------------------------------------------------


def scale_box(box: Box, from_size: tuple[int, int], to_size: tuple[int, int]) -> Box:
    """The same region in a resized copy of the picture (an upscale, a preview)."""
    if from_size == to_size:
        return box
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    x0, y0 = math.floor(box.x * sx + 1e-9), math.floor(box.y * sy + 1e-9)
    x1, y1 = math.ceil(box.right * sx - 1e-9), math.ceil(box.bottom * sy - 1e-9)
    return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0)).clamped(*to_size)


def box_from_fractions(values: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    """A box given as fractions of the picture (what the browser sends) in its pixels."""
    fx, fy, fw, fh = values
    if not all(math.isfinite(v) for v in values) or fw <= 0 or fh <= 0:
        raise ValueError("a box needs a positive width and height")
    width, height = size
    x0, y0 = round(min(max(fx, 0.0), 1.0) * width), round(min(max(fy, 0.0), 1.0) * height)
    x1 = round(min(max(fx + fw, 0.0), 1.0) * width)
    y1 = round(min(max(fy + fh, 0.0), 1.0) * height)
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise ValueError("the box lies outside the picture")
    return Box(x0, y0, x1 - x0, y1 - y0)


def default_focal(width: int, height: int) -> Box:
    """With nothing known about the subject, the middle of the picture."""
    return Box(width // 3, height // 3, max(1, width // 3), max(1, height // 3))


def plan_crop(
    image_size: tuple[int, int],
    output_size: tuple[int, int],
    focal: Box | None = None,
    safe: SafeArea = SafeArea(),
) -> CropPlan:
    """The crop of a ``image_size`` picture for an ``output_size`` frame (see module doc)."""
    width, height = image_size
    out_w, out_h = output_size
    if min(width, height, out_w, out_h) < 1:
        raise ValueError("sizes must be positive")
    aspect = out_w / out_h
    # The largest crop of the frame's aspect ratio: zooming in would only cost pixels.
    if width / height > aspect:
        crop_h = height
        crop_w = min(width, max(1, round(height * aspect)))
    else:
        crop_w = width
        crop_h = min(height, max(1, round(width / aspect)))
    focal = (focal or default_focal(width, height)).clamped(width, height)
    x, warn_x = _place(width, crop_w, focal.x, focal.right, safe.left, safe.right)
    y, warn_y = _place(height, crop_h, focal.y, focal.bottom, safe.top, safe.bottom)
    messages = []
    for warning, sides in ((warn_x, ("left", "right")), (warn_y, ("top", "bottom"))):
        if warning == "too_big":
            extent = "width" if sides[0] == "left" else "height"
            messages.append(
                f"The subject is larger than this frame's {extent} inside its safe area: "
                "part of it is cut or in the safe area."
            )
        elif warning:
            side = sides[0] if warning == "lo" else sides[1]
            messages.append(f"The subject reaches into the {side} safe area of this frame.")
    return CropPlan(Box(x, y, crop_w, crop_h), tuple(messages))


def _place(
    extent: int, crop: int, start: int, end: int, margin_lo: float, margin_hi: float
) -> tuple[int, str]:
    """Position of a ``crop``-long window on an ``extent``-long axis holding [start, end)."""
    if crop >= extent:
        position = 0
    else:
        # Keep the focal rectangle's relative position: a subject a third of the way across the
        # picture stays a third of the way across the crop.
        centre = (start + end) / 2
        relative = centre / extent
        position = round(centre - relative * crop)
        # Then move the least needed to get it inside the safe area (when it fits at all).
        lowest = math.ceil(end - crop * (1 - margin_hi))  # its far edge before the far margin
        highest = math.floor(start - crop * margin_lo)  # its near edge after the near margin
        if lowest <= highest:
            position = min(max(position, lowest), highest)
        else:
            position = round((lowest + highest) / 2)
        position = min(max(0, position), extent - crop)
    usable_lo = position + crop * margin_lo
    usable_hi = position + crop * (1 - margin_hi)
    if end - start > usable_hi - usable_lo + 0.5:
        return position, "too_big"
    if start < usable_lo - 0.5:
        return position, "lo"
    if end > usable_hi + 0.5:
        return position, "hi"
    return position, ""


def upscale_needed(crop: Box, output_size: tuple[int, int]) -> float:
    """How much the crop would have to be enlarged to fill the frame; at most 1.0 is fine."""
    return max(output_size[0] / crop.width, output_size[1] / crop.height)


def fit_box_to_aspect(box: Box, image_size: tuple[int, int], output_size: tuple[int, int]) -> Box:
    """A person's crop, corrected to the frame's aspect ratio (about its centre) and kept inside
    the picture. Small rounding from the browser is expected; anything else is reshaped."""
    width, height = image_size
    aspect = output_size[0] / output_size[1]
    box = box.clamped(width, height)
    cx, cy = box.centre
    area = max(1.0, box.width * box.height)
    crop_w = min(float(width), math.sqrt(area * aspect))
    crop_h = crop_w / aspect
    if crop_h > height:
        crop_h = float(height)
        crop_w = crop_h * aspect
    crop_w_i, crop_h_i = max(1, round(crop_w)), max(1, round(crop_h))
    x = min(max(0, round(cx - crop_w_i / 2)), width - crop_w_i)
    y = min(max(0, round(cy - crop_h_i / 2)), height - crop_h_i)
    return Box(x, y, crop_w_i, crop_h_i)
