"""Channel versions of one master: every preset from one decode.

Framework-free. libvips (pyvips with its PyPI binary) rather than Pillow: it resamples faster
than Pillow on one core, and it handles 16-bit, CMYK, ICC profiles and EXIF orientation
natively. ``bin/bench-exports`` prints the ratio against the naive Pillow way; the figures
live in docs/performance.md.

The pipeline, for N presets:

1. Open the master once. JPEG and WebP shrink on load when every preset allows it (the decoder
   does the first halvings for free); EXIF orientation is applied.
2. One Lanczos3 downscale of the whole picture to the largest scale any preset needs — the
   "working" image, kept in memory. The decode streams into it, so the full-size master is
   never held when no preset needs it.
3. One conversion of the working image to 8-bit sRGB (embedded ICC profile honoured, CMYK
   through a CMYK profile, 16-bit scaled, greyscale expanded).
4. Per preset: crop, a second Lanczos3 pass to the exact output size, alpha kept where the
   format has it or flattened onto the preset background, encoded with the sRGB profile, and
   the quality stepped down until it fits the preset's maximum bytes (or reported).

Never silent upscaling: a preset whose crop has fewer pixels than its output comes back with
``status="too_small"`` and the upscale factor that would fix it, and no data.

The two-pass resample differs from a direct one by less than the JPEG encoding does (tests
measure it at well above 40 dB PSNR).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyvips
from PIL import Image

from workers.focal import Box, SafeArea, plan_crop, upscale_needed
from workers.imaging.colour import ColourError, vips_icc, vips_tag_srgb, vips_to_srgb8
from workers.imaging.containers import sniff_format
from workers.imaging.decode import (
    DecodeError,
    has_alpha,
    icc_of,
    open_vips,
    vips_message,
    vips_orientation,
    vips_shrink,
    vips_upright,
    vips_upright_size,
)

# Part of every output's cache key: bump it when a change here changes the pixels or bytes.
ENGINE_VERSION = "render-1"

FORMATS = ("JPEG", "WEBP", "PNG", "AVIF")
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "PNG": "image/png",
    "AVIF": "image/avif",
}
EXTENSIONS = {"JPEG": ".jpg", "WEBP": ".webp", "PNG": ".png", "AVIF": ".avif"}
_ALPHA_FORMATS = frozenset({"WEBP", "PNG", "AVIF"})

# Shrink-on-load leaves at least this much for Lanczos to do, as Pillow's thumbnail does.
_LOAD_GAP = 2.0
# Below this scale a working image is made first; above it the presets read the decode itself.
_WORKING_BELOW = 0.9
# Quality steps when a preset has a byte limit: from its quality down to this floor.
_QUALITY_STEP = 6
_QUALITY_FLOOR = 30
# A crop this close to the output size counts as 1:1 (browser rounding, not an upscale).
UPSCALE_TOLERANCE = 1.002

Status = Literal["ok", "too_small", "over_max_bytes"]


class RenderError(ValueError):
    """The master could not be decoded, or a preset asks for something impossible."""


@dataclass(frozen=True)
class PresetSpec:
    slug: str
    width: int
    height: int
    format: str = "JPEG"
    quality: int = 85
    max_bytes: int | None = None
    background: tuple[int, int, int] = (255, 255, 255)
    safe_area: SafeArea = field(default_factory=SafeArea)
    # Bytes of ``max_bytes`` kept free for what is added after encoding (the file's provenance
    # and content credentials), so the finished file stays under the limit. Not part of the
    # spec's hash: the caller sets it from what it adds.
    reserved_bytes: int = 0

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise RenderError(f"Unsupported format {self.format!r}: use one of {FORMATS}.")
        if self.width < 1 or self.height < 1:
            raise RenderError(f"Preset {self.slug!r} needs a positive size.")
        if not 1 <= self.quality <= 100:
            raise RenderError(f"Preset {self.slug!r}: quality runs from 1 to 100.")

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def spec_hash(self) -> str:
        """Hash of everything that decides the output's bytes for a given crop."""
        fields = {
            "engine": ENGINE_VERSION,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "quality": self.quality,
            "max_bytes": self.max_bytes,
            "background": list(self.background),
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ExportResult:
    slug: str
    status: Status
    crop: Box
    width: int
    height: int
    format: str
    data: bytes | None = None
    quality: int | None = None
    upscale_needed: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def byte_size(self) -> int:
        return len(self.data) if self.data else 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest() if self.data else ""

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


@dataclass(frozen=True)
class MasterFacts:
    width: int  # upright
    height: int
    has_alpha: bool


def configure(*, concurrency: int | None = None) -> None:
    """Process-wide libvips settings: no operation cache (every job reads a new master, and
    the cache would only hold memory) and untrusted loaders blocked."""
    pyvips.cache_set_max(0)
    # libvips' debug chatter ("threadpool completed…") arrives as INFO records.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    if hasattr(pyvips, "block_untrusted_set"):
        pyvips.block_untrusted_set(True)
    if concurrency is not None:
        pyvips.concurrency_set(concurrency)


configure()


# --- public API ------------------------------------------------------------------------------


def master_facts(source: bytes | Image.Image) -> MasterFacts:
    """Upright size of a master from its header (no decode)."""
    if isinstance(source, Image.Image):
        return MasterFacts(source.width, source.height, has_alpha(source))
    image = _load(source, shrink=1)
    width, height = vips_upright_size(image)
    return MasterFacts(width, height, image.hasalpha())


def plan_crops(
    size: tuple[int, int],
    presets: Sequence[PresetSpec],
    focal: Box | None,
    overrides: Mapping[str, Box] | None = None,
) -> dict[str, tuple[Box, tuple[str, ...]]]:
    """Every preset's crop and what to warn about: a person's override where there is one,
    else the focal plan."""
    out: dict[str, tuple[Box, tuple[str, ...]]] = {}
    for preset in presets:
        override = (overrides or {}).get(preset.slug)
        if override is not None:
            box = override.clamped(*size)
            notes: tuple[str, ...] = ()
            if focal is not None and not box.contains(focal.clamped(*size)):
                notes = ("This crop cuts into the subject (the focal rectangle).",)
            out[preset.slug] = (box, notes)
        else:
            plan = plan_crop(size, preset.size, focal, preset.safe_area)
            out[preset.slug] = (plan.box, plan.warnings)
    return out


def render_channel_versions(
    source: bytes | Image.Image,
    presets: Sequence[PresetSpec],
    crops: Mapping[str, Box] | None = None,
    *,
    focal: Box | None = None,
    warnings: Mapping[str, Sequence[str]] | None = None,
) -> list[ExportResult]:
    """Render every preset from one decode of ``source`` (encoded bytes, or a decoded PIL
    image such as the upscaler's output in memory). ``crops`` maps preset slugs to boxes in
    the upright master; a preset without one gets the focal plan. Results keep preset order."""
    if not presets:
        return []
    try:
        return _render(source, presets, crops or {}, focal, warnings or {})
    except RenderError:
        raise
    except pyvips.Error as exc:
        raise RenderError(f"The master could not be rendered: {vips_message(exc)}") from exc


# --- pipeline --------------------------------------------------------------------------------


@dataclass
class _Job:
    preset: PresetSpec
    crop: Box
    scale: float
    warnings: tuple[str, ...]


def _render(
    source: bytes | Image.Image,
    presets: Sequence[PresetSpec],
    crops: Mapping[str, Box],
    focal: Box | None,
    extra_warnings: Mapping[str, Sequence[str]],
) -> list[ExportResult]:
    header = _from_pil(source) if isinstance(source, Image.Image) else _load(source, shrink=1)
    size = vips_upright_size(header) if not isinstance(source, Image.Image) else source.size
    results: dict[str, ExportResult] = {}
    jobs: list[_Job] = []
    for preset in presets:
        plan_warnings: tuple[str, ...] = ()
        if preset.slug in crops:
            crop = crops[preset.slug].clamped(*size)
        else:
            plan = plan_crop(size, preset.size, focal, preset.safe_area)
            crop, plan_warnings = plan.box, plan.warnings
        notes = tuple(plan_warnings) + tuple(extra_warnings.get(preset.slug, ()))
        needed = upscale_needed(crop, preset.size)
        if needed > UPSCALE_TOLERANCE:
            results[preset.slug] = ExportResult(
                slug=preset.slug,
                status="too_small",
                crop=crop,
                width=preset.width,
                height=preset.height,
                format=preset.format,
                upscale_needed=round(needed, 3),
                warnings=(*notes, too_small_message(crop, preset.size, needed)),
            )
        else:
            jobs.append(_Job(preset, crop, min(1.0, needed), notes))
    if jobs:
        _render_jobs(source, header, size, jobs, results)
    return [results[preset.slug] for preset in presets]


def too_small_message(crop: Box, output: tuple[int, int], factor: float) -> str:
    fix = next((f"×{s}" for s in (2, 4) if s >= factor), None)
    advice = f"an upscale {fix} would fix it" if fix else "no single upscale fixes it"
    return (
        f"Not exported: the crop is {crop.width}×{crop.height} px but the channel needs "
        f"{output[0]}×{output[1]} ({factor:.2f}× larger); {advice}."
    )


def _render_jobs(
    source: bytes | Image.Image,
    header: pyvips.Image,
    size: tuple[int, int],
    jobs: list[_Job],
    results: dict[str, ExportResult],
) -> None:
    top_scale = max(job.scale for job in jobs)
    if isinstance(source, Image.Image):
        image, icc = header, icc_of(source)
    else:
        shrink = vips_shrink(header, top_scale, gap=_LOAD_GAP)
        rotated = vips_orientation(header) != 1
        if shrink > 1 or rotated:
            # Turning by 90 degrees reads columns, which a sequential decode cannot serve.
            image = _load(source, shrink=shrink, random_access=rotated)
        else:
            image = header
        icc = vips_icc(image)
        image = vips_upright(image)
    loaded_scale = image.width / size[0]
    working_scale = min(1.0, top_scale / loaded_scale)
    with_alpha = image.hasalpha()
    if working_scale < _WORKING_BELOW:
        work = _resize(image, working_scale, working_scale, with_alpha)
    else:
        working_scale = 1.0
        work = image
    # One materialised image that every preset reads: the decode happens exactly once here.
    work = _to_srgb8(work, icc).copy_memory()
    factor_x = work.width / size[0]
    factor_y = work.height / size[1]

    # Presets with the same crop and size share one resample (widescreen and presentation).
    resampled: dict[tuple[int, ...], pyvips.Image] = {}
    for job in jobs:
        preset = job.preset
        key = (*job.crop.as_list(), preset.width, preset.height)
        if key not in resampled:
            resampled[key] = _crop_resize(work, job.crop, preset.size, factor_x, factor_y)
        out = resampled[key]
        results[preset.slug] = _encode_result(out, job)


def _crop_resize(
    work: pyvips.Image,
    crop: Box,
    size: tuple[int, int],
    factor_x: float,
    factor_y: float,
) -> pyvips.Image:
    # Edges rounded outwards, so the working crop never has fewer pixels than the output.
    x0 = max(0, math.floor(crop.x * factor_x + 1e-6))
    y0 = max(0, math.floor(crop.y * factor_y + 1e-6))
    x1 = min(work.width, math.ceil(crop.right * factor_x - 1e-6))
    y1 = min(work.height, math.ceil(crop.bottom * factor_y - 1e-6))
    region = work.crop(x0, y0, max(1, x1 - x0), max(1, y1 - y0))
    out_w, out_h = size
    if (region.width, region.height) != (out_w, out_h):
        region = _resize(region, out_w / region.width, out_h / region.height, region.hasalpha())
    if (region.width, region.height) != (out_w, out_h):
        # libvips rounds the output size; a pixel either way is taken from the edge.
        region = region.gravity("centre", out_w, out_h, extend="copy")
    return region.copy_memory()


def _resize(image: pyvips.Image, hscale: float, vscale: float, has_alpha: bool) -> pyvips.Image:
    if not has_alpha:
        return image.resize(hscale, vscale=vscale, kernel="lanczos3")
    # Premultiplied, so transparent pixels' colours do not bleed into the edges.
    fmt = image.format
    max_alpha = 65535 if fmt == "ushort" else 255
    out = image.premultiply(max_alpha=max_alpha).resize(hscale, vscale=vscale, kernel="lanczos3")
    return out.unpremultiply(max_alpha=max_alpha).cast(fmt)


def _encode_result(image: pyvips.Image, job: _Job) -> ExportResult:
    preset = job.preset
    keep_alpha = image.hasalpha() and preset.format in _ALPHA_FORMATS and _alpha_is_used(image)
    if image.hasalpha() and not keep_alpha:
        image = image.flatten(background=list(preset.background)).cast("uchar")
    elif not image.hasalpha() and image.bands > 3:
        image = image.extract_band(0, n=3)
    image = vips_tag_srgb(image)
    data, quality, fits = _encode_within(image, preset)
    notes = list(job.warnings)
    status: Status = "ok"
    if not fits:
        status = "over_max_bytes"
        kept = (
            f", with {preset.reserved_bytes:,} bytes kept for its provenance"
            if preset.reserved_bytes
            else ""
        )
        notes.append(
            f"Over the {preset.max_bytes:,} byte limit even at the lowest quality tried "
            f"({len(data):,} bytes{kept})."
        )
    return ExportResult(
        slug=preset.slug,
        status=status,
        crop=job.crop,
        width=image.width,
        height=image.height,
        format=preset.format,
        data=data,
        quality=quality,
        warnings=tuple(notes),
    )


def _encode_within(image: pyvips.Image, preset: PresetSpec) -> tuple[bytes, int | None, bool]:
    limit = max(1, preset.max_bytes - preset.reserved_bytes) if preset.max_bytes else None
    if preset.format == "PNG":
        data = _encode(image, "PNG", 0, level=6)
        if limit and len(data) > limit:
            data = _encode(image, "PNG", 0, level=9)
        return data, None, not limit or len(data) <= limit
    quality = preset.quality
    data = _encode(image, preset.format, quality)
    if not limit or len(data) <= limit:
        return data, quality, True
    # Step down; the first step that fits wins, so the best quality under the limit is kept.
    steps = list(range(quality - _QUALITY_STEP, _QUALITY_FLOOR - 1, -_QUALITY_STEP))
    if not steps or steps[-1] != _QUALITY_FLOOR:
        steps.append(_QUALITY_FLOOR)
    for step in steps:
        if step >= quality:
            continue
        data = _encode(image, preset.format, step)
        if len(data) <= limit:
            return data, step, True
    return data, steps[-1], False


def _encode(image: pyvips.Image, fmt: str, quality: int, *, level: int = 6) -> bytes:
    # keep="icc": the sRGB profile goes out, whatever else the master carried (EXIF, XMP) stays.
    if fmt == "JPEG":
        data = image.jpegsave_buffer(Q=quality, keep="icc", optimize_coding=False)
    elif fmt == "WEBP":
        data = image.webpsave_buffer(Q=quality, keep="icc", effort=4)
    elif fmt == "AVIF":
        data = image.heifsave_buffer(Q=quality, keep="icc", compression="av1", effort=4, bitdepth=8)
    else:
        data = image.pngsave_buffer(keep="icc", compression=level)
    return bytes(data)


# --- decoding and colour (workers.imaging) -------------------------------------------------


def _load(data: bytes, *, shrink: int, random_access: bool = False) -> pyvips.Image:
    if sniff_format(data) is None:
        # Masters passed intake (PNG, JPEG, WebP); only the loaders for those see the bytes.
        raise RenderError("The master is not a PNG, JPEG or WebP file.")
    try:
        return open_vips(data, shrink=shrink, random_access=random_access)
    except DecodeError as exc:
        raise RenderError(f"The master could not be decoded: {exc}") from exc


def _to_srgb8(image: pyvips.Image, icc: bytes | None) -> pyvips.Image:
    try:
        return vips_to_srgb8(image, icc)
    except ColourError as exc:
        raise RenderError("The CMYK master could not be converted to sRGB.") from exc


def _alpha_is_used(image: pyvips.Image) -> bool:
    return bool(image.extract_band(image.bands - 1).min() < 255)


# --- PIL input (the GPU worker's master in memory) -------------------------------------------


def _from_pil(image: Image.Image) -> pyvips.Image:
    import numpy as np

    mode = image.mode
    interpretation = "srgb"
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image.convert("I"), dtype=np.int64).clip(0, 65535).astype(np.uint16)
        interpretation = "grey16"
    elif mode == "CMYK":
        array = np.asarray(image)
        interpretation = "cmyk"
    elif mode in ("L", "LA"):
        array = np.asarray(image)
        interpretation = "b-w"
    elif mode in ("RGB", "RGBA"):
        array = np.asarray(image)
    else:
        converted = image.convert("RGBA" if has_alpha(image) else "RGB")
        array = np.asarray(converted)
    if array.ndim == 2:
        array = array[:, :, None]
    array = np.ascontiguousarray(array)
    height, width, bands = array.shape
    fmt = "ushort" if array.dtype == np.uint16 else "uchar"
    vimage = pyvips.Image.new_from_memory(array.data, width, height, bands, fmt)
    return vimage.copy(interpretation=interpretation)
