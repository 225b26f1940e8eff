"""Decoding drafts for upscaling and the classical (non-neural) resampling.

Decisions, all on purpose:
* EXIF orientation is applied, so the master is upright and carries no orientation tag.
* Greyscale stays greyscale (the network sees it as RGB; the result is turned back into one
  channel with Pillow's luma weights).
* Alpha is kept: it is resized with Lanczos (masks and soft edges do not need a network), while
  the colour goes through the network.
* 16-bit input stays 16-bit: grey through Pillow, RGB(A) through OpenCV when it is installed
  (Pillow reads 16-bit RGB only as 8-bit; without OpenCV that is what happens, and it is noted).
* The ICC profile is carried over unchanged: the network works on the stored values, and the
  profile still describes them. CMYK cannot go through the network, so it is converted to sRGB
  (through its profile where it has one) and the master is tagged sRGB.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from workers.imaging.colour import pil_to_srgb, srgb_profile
from workers.imaging.decode import SIXTEEN_BIT_MODES, Decoded, DecodeError, decode, orient_array


@dataclass
class DecodedImage:
    colour: np.ndarray  # (H, W, 3) RGB or (H, W) grey; uint8 or uint16
    alpha: np.ndarray | None  # (H, W), same dtype as colour
    icc: bytes | None
    notes: list[str] = field(default_factory=list)

    @property
    def grey(self) -> bool:
        return self.colour.ndim == 2

    @property
    def bit_depth(self) -> int:
        return 16 if self.colour.dtype == np.uint16 else 8

    @property
    def max_value(self) -> int:
        return 65535 if self.bit_depth == 16 else 255

    @property
    def size(self) -> tuple[int, int]:
        return self.colour.shape[1], self.colour.shape[0]

    @property
    def channels(self) -> int:
        return (1 if self.grey else 3) + (1 if self.alpha is not None else 0)

    def rgb(self) -> np.ndarray:
        """The colour as (H, W, 3), grey replicated."""
        if self.grey:
            return np.repeat(self.colour[:, :, None], 3, axis=2)
        return self.colour


def decode_image(data: bytes) -> DecodedImage:
    """The draft upright, as numpy planes; raises :class:`DecodeError` and nothing else."""
    decoded = decode(data)
    try:
        return _arrays(decoded, data)
    except Exception as exc:
        raise DecodeError(f"The image could not be decoded: {exc}") from exc


def _arrays(decoded: Decoded, data: bytes) -> DecodedImage:
    """The upright decode as numpy planes, 16 bits kept where the file has them."""
    notes: list[str] = []
    im, icc, orientation = decoded.image, decoded.icc, decoded.orientation
    mode = im.mode
    colour: np.ndarray
    alpha: np.ndarray | None = None
    if mode in SIXTEEN_BIT_MODES:
        colour = np.clip(np.asarray(im.convert("I")), 0, 65535).astype(np.uint16)
        notes.append("16-bit greyscale kept at 16 bits")
    elif mode in ("L", "1"):
        colour = np.asarray(im.convert("L"))
    elif mode in ("LA", "La"):
        la = np.asarray(im.convert("LA"))
        colour, alpha = la[:, :, 0], la[:, :, 1]
    elif mode == "CMYK":
        colour = np.asarray(pil_to_srgb(im, icc))
        icc = srgb_profile()
        notes.append("CMYK converted to sRGB before upscaling")
    elif mode == "F":
        colour = np.clip(np.asarray(im) * 255 + 0.5, 0, 255).astype(np.uint8)
    else:
        with_alpha = "A" in mode or "transparency" in im.info
        rgba = np.asarray(im.convert("RGBA" if with_alpha else "RGB"))
        colour = rgba[:, :, :3]
        alpha = rgba[:, :, 3] if with_alpha else None
        if decoded.bit_depth == 16:
            # Pillow reads 16-bit RGB(A) as 8 bits: OpenCV reads the file again, stored way up.
            deep = _decode_16bit_rgb(data)
            if deep is not None:
                deep = orient_array(deep, orientation)
            if deep is not None and deep.shape[:2] == colour.shape[:2]:
                colour = deep[:, :, :3]
                alpha = deep[:, :, 3] if deep.shape[2] == 4 else None
                notes.append("16-bit colour kept at 16 bits")
            else:
                notes.append("16-bit colour read at 8 bits (OpenCV is not installed)")
    if orientation != 1:
        notes.append(f"EXIF orientation {orientation} applied")
    if alpha is not None and int(alpha.min()) == int(np.iinfo(alpha.dtype).max):
        alpha = None  # an opaque alpha channel carries nothing
    if alpha is not None and alpha.dtype != colour.dtype:
        alpha = (alpha.astype(np.uint32) * 257).astype(np.uint16)
    return DecodedImage(np.ascontiguousarray(colour), alpha, icc, notes)


def _decode_16bit_rgb(data: bytes) -> np.ndarray | None:
    try:
        import cv2
    except ImportError:
        return None
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype != np.uint16 or array.ndim != 3:
        return None
    if array.shape[2] == 4:
        return np.ascontiguousarray(array[:, :, [2, 1, 0, 3]])
    return np.ascontiguousarray(array[:, :, ::-1])


def resize_plane(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos-resize one (H, W) plane of any depth to ``size`` (width, height), same dtype."""
    if (plane.shape[1], plane.shape[0]) == size:
        return plane
    if plane.dtype == np.uint8:
        return np.asarray(Image.fromarray(plane, "L").resize(size, Image.Resampling.LANCZOS))
    as_float = Image.fromarray(plane.astype(np.float32), "F")
    resized = np.asarray(as_float.resize(size, Image.Resampling.LANCZOS))
    return np.clip(resized + 0.5, 0, np.iinfo(plane.dtype).max).astype(plane.dtype)


def resize_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos resize of an (H, W[, C]) uint8/uint16 array; 8-bit RGB(A) in one Pillow call."""
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    if pixels.ndim == 2:
        return resize_plane(pixels, size)
    if pixels.dtype == np.uint8 and pixels.shape[2] in (3, 4):
        mode = "RGB" if pixels.shape[2] == 3 else "RGBA"
        image = Image.fromarray(np.ascontiguousarray(pixels), mode)
        # RGBA: Pillow premultiplies alpha while resampling, so edges do not bleed colour.
        return np.asarray(image.resize(size, Image.Resampling.LANCZOS))
    planes = [
        resize_plane(np.ascontiguousarray(pixels[:, :, i]), size) for i in range(pixels.shape[2])
    ]
    return np.stack(planes, axis=2)


def _blur(plane: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, round(sigma * 3))
    xs = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-(xs**2) / (2 * sigma * sigma))
    kernel /= kernel.sum()
    out = plane
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], "edge")
        acc = np.zeros_like(out)
        length = out.shape[axis]
        for offset, k in enumerate(kernel):
            acc += k * (
                padded[offset : offset + length]
                if axis == 0
                else padded[:, offset : offset + length]
            )
        out = acc
    return out


def classical_upscale(
    colour: np.ndarray, size: tuple[int, int], *, amount: float = 0.6, sigma: float = 1.0
) -> np.ndarray:
    """Lanczos to ``size`` then mild unsharp masking: the labelled fallback when no neural
    weights are installed. Same shape convention and dtype as ``colour``. 8-bit grey and RGB
    are sharpened by Pillow's UnsharpMask (in C: faster than the numpy path, and within 2
    levels of it; figures in docs/performance.md); 16-bit keeps its depth through numpy."""
    resized = resize_pixels(colour, size)
    if resized.dtype == np.uint8 and (resized.ndim == 2 or resized.shape[2] == 3):
        image = Image.fromarray(np.ascontiguousarray(resized), "L" if resized.ndim == 2 else "RGB")
        sharpen = ImageFilter.UnsharpMask(radius=sigma, percent=round(amount * 100), threshold=0)
        return np.asarray(image.filter(sharpen))
    top = float(np.iinfo(resized.dtype).max)
    as_float = resized.astype(np.float32)
    planes = as_float[:, :, None] if as_float.ndim == 2 else as_float
    sharpened = np.empty_like(planes)
    for index in range(planes.shape[2]):
        plane = planes[:, :, index]
        sharpened[:, :, index] = plane + amount * (plane - _blur(plane, sigma))
    result = np.clip(sharpened + 0.5, 0, top).astype(resized.dtype)
    return result[:, :, 0] if resized.ndim == 2 else result


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height
