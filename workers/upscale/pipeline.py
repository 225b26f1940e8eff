"""The upscaler's public API: bytes or a Pillow image in, upscaled pixels or a PNG out.

* :func:`upscale_image` returns the master in memory (:class:`UpscaleResult`, pixels as a numpy
  array, ``to_pil()`` for Pillow), so an "upscale and export" step can render channel versions
  from it without encoding and decoding it again.
* :func:`upscale_to_png` is what the job runs: the PNG is compressed strip by strip while the
  network still works on later strips.

Both pick the neural model when its weights (and torch + basicsr) are installed; otherwise the
classical upscaler runs and the result says so (``neural`` False, ``model_name`` "classical",
and a note). Weights that are present but fail their checksum are an error, never a fallback.

Alpha (``UpscaleConfig.alpha_upsampler``): with a neural model, real transparency goes through
the network too, as Real-ESRGAN's own ``alpha_upsampler='realesrgan'`` does (``"network"``, the
default); ``"lanczos"`` resizes it classically, which is also what the classical upscaler does.
A fully opaque alpha channel carries nothing and is dropped. ``result.alpha_method`` and a note
record which way the alpha was made; the alpha pass's tiles count in the progress totals.

Several threads may upscale at once (the gpu worker runs two jobs): each network pass takes its
turn on the device (``engine.device_turn``) while decoding, encoding and everything after run
freely. ``UpscaleCallbacks.device_wait`` hears about a wait, ``timings["gpu_wait"]`` says how
long it was.

``compile_mode`` (UPSCALE_COMPILE) runs the network under ``torch.compile``: the first job of a
process compiles it for its one tile shape (``engine.prepare``; ``UpscaleCallbacks.preparing``
hears about it every second, ``timings["compile"]`` says how long it took), later jobs reuse it.
A compiler that fails makes the network run without it, with a note saying so.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from workers.upscale.engine_types import DeviceWait, TileOptions, UpscaleCancelled
from workers.upscale.imaging import (
    DecodedImage,
    classical_upscale,
    decode_image,
    resize_pixels,
    resize_plane,
)
from workers.upscale.pngstream import PngStreamWriter, encode_png
from workers.upscale.registry import (
    CLASSICAL,
    CLASSICAL_SPEC,
    ModelSpec,
    get_model,
    weights_path,
)

logger = logging.getLogger(__name__)

MAX_SCALE = 8.0
Progress = Callable[[int, int], bool]
ALPHA_UPSAMPLERS = ("network", "lanczos")


class UpscaleError(ValueError):
    """Bad parameters or an input the upscaler cannot use; the message is for people."""


@dataclass
class UpscaleResult:
    pixels: np.ndarray | None  # (H, W, C): C is 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)
    width: int
    height: int
    channels: int
    bit_depth: int
    icc: bytes | None
    model_name: str
    model_label: str
    weights_sha256: str
    neural: bool
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    # How the alpha channel was made: "network" (through the neural model, as RGB, one channel
    # kept), "lanczos" (classical resize) or "" (no alpha in the output).
    alpha_method: str = ""

    @property
    def mode(self) -> str:
        base = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[self.channels]
        if self.bit_depth == 16:
            return "I;16" if base == "L" else f"{base};16"
        return base

    def to_pil(self) -> Image.Image:
        """A Pillow image of the master. Pillow has no 16-bit colour modes, so 16-bit RGB(A)
        comes back at 8 bits per channel (16-bit grey stays ``I;16``)."""
        if self.pixels is None:
            raise ValueError("this result kept no pixels")
        pixels = self.pixels
        if self.bit_depth == 16:
            if self.channels == 1:
                return Image.fromarray(pixels[:, :, 0].astype(np.uint16), "I;16")
            pixels = (pixels.astype(np.uint32) * 255 // 65535).astype(np.uint8)
        if pixels.shape[2] == 1:
            return Image.fromarray(np.ascontiguousarray(pixels[:, :, 0]), "L")
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
        image = Image.fromarray(np.ascontiguousarray(pixels), mode)
        if self.icc:
            image.info["icc_profile"] = self.icc
        return image

    def encode_png(self, *, level: int = 2, deflate: str | None = None) -> bytes:
        if self.pixels is None:
            raise ValueError("this result kept no pixels")
        return encode_png(
            self.pixels, icc_profile=self.icc, level=level, deflate=deflate, pool=encode_pool()
        )


@dataclass
class EncodedUpscale:
    png: bytes
    result: UpscaleResult  # pixels is None: the job only needs the file


def target_size(source: tuple[int, int], scale: float) -> tuple[int, int]:
    if not (1.0 < scale <= MAX_SCALE) or math.isnan(scale):
        raise UpscaleError(f"The scale must be above 1 and at most {MAX_SCALE:g}.")
    return max(1, round(source[0] * scale)), max(1, round(source[1] * scale))


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def encode_threads() -> int:
    """Threads of the PNG encoder pool: UPSCALE_ENCODE_THREADS, else one per core up to 16."""
    return int(os.environ.get("UPSCALE_ENCODE_THREADS", "0")) or min(16, os.cpu_count() or 2)


def encode_pool() -> ThreadPoolExecutor:
    """The process's PNG encoder threads, shared by every job (zlib and ISA-L release the GIL)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=encode_threads(), thread_name_prefix="png")
        return _POOL


def _decode(source: bytes | Image.Image | DecodedImage) -> DecodedImage:
    if isinstance(source, DecodedImage):
        return source
    if isinstance(source, Image.Image):
        buffer = io.BytesIO()
        source.save(buffer, "PNG")
        return decode_image(buffer.getvalue())
    return decode_image(source)


@dataclass(frozen=True)
class ModelChoice:
    """Which upscaler a run will use, decided before any pixel work (so a job can compute its
    deterministic output key, weights checksum included, and skip work already done)."""

    name: str
    label: str
    neural: bool
    weights_sha256: str
    spec: ModelSpec | None
    notes: tuple[str, ...] = ()
    default_scale: int = 2  # the scale used when none is given (the requested model's)


@dataclass(frozen=True)
class UpscaleConfig:
    """How a worker upscales: where the weights are, on which device, in which precision, with
    which tiles, and how the PNG master is compressed. One per worker (from settings); the same
    for every job it runs."""

    models_dir: Path | str | None = None
    device: str | None = None  # None: CUDA when there is one, else the CPU
    precision: str = "auto"  # auto (fp16 on CUDA) | fp16 | bf16 | fp32
    compile_mode: str = ""  # "" or one of weights.COMPILE_MODES (UPSCALE_COMPILE)
    tile_options: TileOptions | None = None  # None: tiles and batch from free memory
    alpha_upsampler: str = "network"  # or "lanczos": see the module docstring
    # Past this many seconds waiting for the device, the holder is taken for stuck
    # (engine.device_turn); None waits for ever.
    device_wait_limit: float | None = None
    png_level: int = 2  # UPSCALE_PNG_LEVEL
    png_deflate: str | None = None  # None: pngstream's default (ISA-L when installed)


@dataclass(frozen=True)
class UpscaleCallbacks:
    """What a run tells its job while it works. Each returns False to cancel the run
    (:class:`UpscaleCancelled`)."""

    progress: Progress | None = None  # (tiles done, tiles total), alpha pass included
    # (seconds waited so far) while another job's network pass has the device.
    device_wait: DeviceWait | None = None
    # (seconds so far) while the worker's first job compiles the network (compile_mode).
    preparing: DeviceWait | None = None


def choose_model(
    model: str | ModelSpec | ModelChoice, config: UpscaleConfig | None = None
) -> ModelChoice:
    """The neural model when its weights and torch + basicsr are here, else the classical
    upscaler with the reason in ``notes``. Loads (and checks) the weights once per process."""
    if isinstance(model, ModelChoice):
        return model
    config = config or UpscaleConfig()
    models_dir = config.models_dir
    classical = ModelChoice(CLASSICAL, CLASSICAL_SPEC.label, False, "", None)
    if model == CLASSICAL:
        return classical
    spec = model if isinstance(model, ModelSpec) else get_model(model)
    if models_dir is None or not weights_path(models_dir, spec).is_file():
        reason = f"{spec.label} weights are not installed; the classical upscaler ran instead"
        return dataclasses.replace(classical, notes=(reason,), default_scale=spec.scale)
    from workers.upscale.archs import basicsr_available
    from workers.upscale.custom import is_custom, spandrel_available

    if is_custom(spec) and not spandrel_available():
        reason = "spandrel is not installed here; the classical upscaler ran instead"
        return dataclasses.replace(classical, notes=(reason,), default_scale=spec.scale)
    if not is_custom(spec) and not basicsr_available():
        reason = "torch/basicsr are not installed here; the classical upscaler ran instead"
        return dataclasses.replace(classical, notes=(reason,), default_scale=spec.scale)
    from workers.upscale.weights import load_model

    loaded = load_model(
        spec, models_dir, device=config.device, precision=config.precision,
        compile_mode=config.compile_mode,
    )  # fmt: skip
    return ModelChoice(spec.name, spec.label, True, loaded.sha256, spec, (), spec.scale)


def _combine(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    planes = colour if colour.ndim == 3 else colour[:, :, None]
    if alpha is None:
        return planes
    return np.concatenate([planes, alpha[:, :, None].astype(planes.dtype)], axis=2)


class _PassProgress:
    """Tiles of several network passes (the alpha pass, then the colour pass) as one count.
    Both passes have the same geometry and tiling, so while a pass runs each later pass is
    counted at its size; a finished pass counts its real tiles. Totals stay the same from
    call to call and the last report is (total, total): the bar ends at exactly 100 %."""

    def __init__(self, progress: Progress | None, passes: int) -> None:
        self.progress = progress
        self.passes = passes
        self.finished = 0

    def __call__(self, done: int, total: int) -> bool:
        if self.progress is None:
            return True
        return self.progress(self.finished + done, self.finished + total * self.passes)

    def pass_done(self, total: int) -> None:
        self.finished += total
        self.passes -= 1


def _run(
    decoded: DecodedImage,
    *,
    choice: ModelChoice,
    size: tuple[int, int],
    config: UpscaleConfig,
    callbacks: UpscaleCallbacks,
    writer_factory: Callable[[int, int, int, int, bytes | None], PngStreamWriter] | None,
    timings: dict[str, float],
    keep_pixels: bool = True,
) -> tuple[UpscaleResult, PngStreamWriter | None]:
    notes = list(decoded.notes) + list(choice.notes)
    progress = callbacks.progress
    spec = choice.spec
    width, height = size
    depth = decoded.bit_depth
    alpha = decoded.alpha
    if alpha is not None and int(alpha.min()) == decoded.max_value:
        alpha = None  # fully opaque: nothing to upscale (decode_image drops it too)
    channels = (1 if decoded.grey else 3) + (alpha is not None)
    alpha_method = ""
    alpha_up: np.ndarray | None = None
    if alpha is not None and (spec is None or config.alpha_upsampler == "lanczos"):
        started = time.perf_counter()
        alpha_up = resize_plane(alpha, size)
        timings["alpha"] = round(time.perf_counter() - started, 4)
        alpha_method = "lanczos"
        notes.append("alpha resized with Lanczos")
    if spec is None:
        started = time.perf_counter()
        if progress is not None:
            progress(0, 1)
        colour = classical_upscale(decoded.colour, size)
        classical_pixels = _combine(colour, alpha_up)
        timings["infer"] = round(time.perf_counter() - started, 4)
        if progress is not None and not progress(1, 1):
            raise UpscaleCancelled()
        writer = None
        if writer_factory is not None:
            writer = writer_factory(width, height, channels, depth, decoded.icc)
            writer.add_rows(classical_pixels)
        result = UpscaleResult(
            classical_pixels, width, height, channels, depth, decoded.icc, CLASSICAL,
            CLASSICAL_SPEC.label, "", False, notes, timings, alpha_method=alpha_method,
        )  # fmt: skip
        return result, writer

    from workers.upscale.engine import device_turn, infer_alpha, infer_tiled, prepare, timed_sync
    from workers.upscale.weights import load_model

    assert config.models_dir is not None
    loaded = load_model(
        spec, config.models_dir, device=config.device, precision=config.precision,
        compile_mode=config.compile_mode,
    )  # fmt: skip
    timings["gpu_wait"] = 0.0

    def turn() -> AbstractContextManager[float]:
        return device_turn(
            loaded.device, on_wait=callbacks.device_wait, max_wait=config.device_wait_limit
        )

    def waited(seconds: float) -> None:
        timings["gpu_wait"] = round(timings["gpu_wait"] + seconds, 4)

    native = (decoded.size[0] * spec.scale, decoded.size[1] * spec.scale)
    options = config.tile_options or TileOptions()
    if loaded.compiled and not loaded.runtime.get("prepared"):
        # The first job of a worker process compiles the network (torch.compile) for its tile
        # shape; later jobs find it compiled (also a job that waited for the turn meanwhile).
        with turn() as seconds:
            waited(seconds)
            compile_s = prepare(loaded, options, keepalive=callbacks.preparing)
        if compile_s:
            timings["compile"] = round(compile_s, 4)
        if compile_s and loaded.compiled:
            notes.append(
                f"network compiled (torch.compile, {loaded.compile_mode}) in {compile_s:.0f} s"
            )
    counter = _PassProgress(progress, passes=2 if alpha is not None and alpha_up is None else 1)
    alpha_stats = None
    if alpha is not None and alpha_up is None:
        # Before the colour: the streaming PNG writer needs each strip's alpha rows at once.
        with turn() as seconds:
            waited(seconds)
            started = time.perf_counter()
            alpha_native, alpha_stats = infer_alpha(
                loaded, alpha, max_value=decoded.max_value, options=options, progress=counter
            )
        alpha_up = resize_plane(alpha_native, size)
        timings["alpha"] = round(time.perf_counter() - started, 4)
        counter.pass_done(alpha_stats.tiles)
        # The colour pass reuses the tiling the alpha pass settled on (after any out-of-memory
        # shrink), so both passes have as many tiles as the progress total promised.
        options = dataclasses.replace(options, tile=alpha_stats.tile, batch=alpha_stats.batch)
        alpha_method = "network"
        notes.append(f"alpha upscaled by {spec.label} (as RGB, one channel kept)")
    streaming = writer_factory is not None and native == size
    writer = None
    if streaming and writer_factory is not None:
        writer = writer_factory(width, height, channels, depth, decoded.icc)
    if native != size:
        notes.append(
            f"{spec.label} made {native[0]}×{native[1]}; resized with Lanczos to {width}×{height}"
        )
    holder: dict[str, Any] = {}

    def on_rows(y0: int, y1: int, event: Any) -> None:
        if writer is None:
            return

        def fetch() -> tuple[np.ndarray, np.ndarray | None]:
            if event is not None:
                event.synchronize()
            rows = _host_rows(holder["out"], y0 - (1 if y0 else 0), y1, alpha_up)
            return (rows[1:], rows[0]) if y0 else (rows, None)

        writer.add_strip(y1 - y0, fetch)

    def on_reset() -> None:
        if writer is not None:
            writer.reset()

    from workers.upscale.engine import allocate_output

    rgb = decoded.rgb()
    # The turn covers the pass and its final synchronisation, so the device is idle when the
    # next job's pass starts. The encoder threads keep compressing this job's strips after it.
    with turn() as seconds:
        waited(seconds)
        started = time.perf_counter()
        out, stats = infer_tiled(
            loaded,
            rgb,
            max_value=decoded.max_value,
            grey=decoded.grey,
            options=options,
            progress=counter,
            on_rows=on_rows,
            on_reset=on_reset,
            allocate=lambda *a: holder.setdefault("out", allocate_output(*a)),
        )
        timings["infer"] = round(timed_sync(loaded.device) - started, 4)
    pixels: np.ndarray | None = None
    if writer is not None and keep_pixels:
        # Streamed: the strips went to the encoder, but "upscale and export" renders from
        # these pixels too. The host buffer is complete (timed_sync waited for its copies).
        pixels = _host_rows(out, 0, out.shape[0], alpha_up)
    if writer is None:
        colour = _host_rows(out, 0, out.shape[0], None)
        if native != size:
            started = time.perf_counter()
            colour = resize_pixels(colour[:, :, 0] if decoded.grey else colour, size)
            timings["resize"] = round(time.perf_counter() - started, 4)
        pixels = _combine(colour, alpha_up)
        if writer_factory is not None:
            writer = writer_factory(width, height, channels, depth, decoded.icc)
            writer.add_rows(pixels)
    if loaded.compile_mode and not loaded.compiled:
        # Checked after the passes: a recompile inside one (a new shape after an out-of-memory
        # shrink) can fail too, and this job then ran without the compiler as well.
        reason = loaded.runtime["compile_failed"]
        notes.append(f"torch.compile failed here, so the network ran without it: {reason}")
    run_stats: dict[str, Any] = dict(stats.__dict__)
    # Pixels the network ran on per image pixel, per pass (the alpha pass has the same tiles).
    run_stats["processed_ratio"] = round(stats.processed_ratio, 3)
    if alpha_stats is not None:
        run_stats["alpha_processed_pixels"] = alpha_stats.processed_pixels
        run_stats["alpha_tiles"] = alpha_stats.tiles
        run_stats["alpha_forward_passes"] = alpha_stats.forward_passes
        run_stats["oom_recoveries"] += alpha_stats.oom_recoveries
        run_stats["events"] = [f"alpha: {e}" for e in alpha_stats.events] + stats.events
    result = UpscaleResult(
        pixels, width, height, channels, depth, decoded.icc, spec.name, spec.label,
        loaded.sha256, True, notes, timings, run_stats, alpha_method,
    )  # fmt: skip
    return result, writer


def _host_rows(out: Any, y0: int, y1: int, alpha: np.ndarray | None) -> np.ndarray:
    rows = out[y0:y1].numpy()
    if rows.dtype != np.uint8:
        rows = rows.astype(np.uint16)
    if alpha is not None:
        rows = np.concatenate([rows, alpha[y0:y1, :, None].astype(rows.dtype)], axis=2)
    return rows


def upscale_image(
    source: bytes | Image.Image | DecodedImage,
    *,
    model: str | ModelSpec | ModelChoice = "x4plus",
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    config: UpscaleConfig | None = None,
    callbacks: UpscaleCallbacks | None = None,
) -> UpscaleResult:
    """Upscale in memory. Give ``scale`` (above 1, at most 8) or an exact output ``size``;
    with neither, the model's own scale. ``result.pixels`` is (H, W, C) uint8 or uint16."""
    config = config or UpscaleConfig()
    _check_alpha_upsampler(config.alpha_upsampler)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    decoded = _decode(source)
    timings["decode"] = round(time.perf_counter() - started, 4)
    started = time.perf_counter()
    choice = choose_model(model, config)
    timings["load"] = round(time.perf_counter() - started, 4)
    result, _ = _run(
        decoded,
        choice=choice,
        size=_output_size(decoded, choice, scale, size),
        config=config,
        callbacks=callbacks or UpscaleCallbacks(),
        writer_factory=None,
        timings=timings,
    )
    return result


def upscale_to_png(
    data: bytes,
    *,
    model: str | ModelSpec | ModelChoice = "x4plus",
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    config: UpscaleConfig | None = None,
    callbacks: UpscaleCallbacks | None = None,
    keep_pixels: bool = False,
) -> EncodedUpscale:
    """Decode, upscale and encode a PNG master, compressing while the network runs.
    ``keep_pixels`` keeps the upscaled pixels on the result for rendering from memory. The
    device is held only for the network passes, never for the decode or the end of the
    encoding (see ``engine.device_turn``)."""
    config = config or UpscaleConfig()
    _check_alpha_upsampler(config.alpha_upsampler)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    decoded = _decode(data)
    timings["decode"] = round(time.perf_counter() - started, 4)
    started = time.perf_counter()
    choice = choose_model(model, config)
    timings["load"] = round(time.perf_counter() - started, 4)

    def factory(w: int, h: int, c: int, depth: int, icc: bytes | None) -> PngStreamWriter:
        return PngStreamWriter(
            w, h, c, bit_depth=depth, icc_profile=icc, level=config.png_level,
            deflate=config.png_deflate, pool=encode_pool(),
        )  # fmt: skip

    result, writer = _run(
        decoded,
        choice=choice,
        size=_output_size(decoded, choice, scale, size),
        config=config,
        callbacks=callbacks or UpscaleCallbacks(),
        writer_factory=factory,
        timings=timings,
        keep_pixels=keep_pixels,
    )
    assert writer is not None
    started = time.perf_counter()
    png = writer.finish()
    # With streaming most compression already happened during inference; this is the rest.
    timings["encode"] = round(time.perf_counter() - started, 4)
    if not keep_pixels:
        result.pixels = None
    return EncodedUpscale(png, result)


def _check_alpha_upsampler(name: str) -> None:
    if name not in ALPHA_UPSAMPLERS:
        raise UpscaleError(
            f"Unknown alpha upsampler {name!r}; use one of {', '.join(ALPHA_UPSAMPLERS)}."
        )


def _output_size(
    decoded: DecodedImage, choice: ModelChoice, scale: float | None, size: tuple[int, int] | None
) -> tuple[int, int]:
    if size is not None:
        if size[0] < 1 or size[1] < 1:
            raise UpscaleError("The output size must be positive.")
        return size
    if scale is None:
        scale = float(choice.default_scale)
    return target_size(decoded.size, scale)
