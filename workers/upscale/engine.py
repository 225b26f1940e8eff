"""Tiled neural inference: overlapping tiles, blended seams, batched tiles, OOM recovery.

Tiles (:func:`tile_geometry`): each side of the image is split into ``ceil(side / tile)``
equal tiles just big enough to cover it, so the network runs on the image plus its context and
little else (``InferStats.processed_ratio``: pixels run through the network per image pixel).
Every tile of an image has the same shape, which lets tiles of any row and column share a
batch. Neighbouring tiles overlap by at least ``2 * overlap`` input pixels; outputs are blended
with linear ramps across the overlaps and normalised by the sum of the ramps, so no seam is
visible. Rows of tiles finish top to bottom; as soon as a strip of output rows is final it is
normalised, quantised *on the device*, copied to (pinned) host memory and announced to
``on_rows`` — the PNG encoder compresses it while the next rows run.

Border rule: the image is reflected by ``min(border, overlap)`` pixels (10 by default) on all
four sides before tiling, and the network's output for those pixels is cut off. So a pixel near
the edge sees mirrored context on every side, as a pixel inside sees real context; the result
is exactly the network run on ``F.pad(image, (10, 10, 10, 10), "reflect")`` and cropped
(tests/workers/test_upscale_engine.py checks this). Real-ESRGAN's ``RealESRGANer`` reflects 10
pixels on the right and bottom only (its ``pre_pad``), so the top and left rows differ from
it; the all-sides rule matched ground truth slightly better in the check of issue 16.

A compiled network (``loaded.compiled``) sees one tile shape: ``tile + 2 * overlap`` square.
An image is covered by as many of those as it needs, spread evenly over it (they overlap more
instead of running past the image); only an image smaller than one tile is padded up to it
(reflected, else repeated edge pixels), which is why a compiled worker's UPSCALE_TILE should
suit its images.

Precision: fp16 on CUDA with channels_last (bf16 or fp32 on request), fp32 on the CPU.
Out of memory: first the batch is halved; at batch 1 the tile is halved and the image starts
again (``on_reset`` tells the consumer). ``before_forward`` is a hook that runs before every
forward pass; tests use it to raise an out-of-memory error on the CPU.

One network pass at a time per device (:func:`device_turn`): the gpu worker runs two jobs at
once so that one job's reading, decoding, PNG tail, storing and channel exports happen while the
other job's network pass has the device; only the passes themselves take turns.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from workers.upscale.engine_types import (
    DeviceBusy,
    DeviceWait,
    InferStats,
    TileGeometry,
    TileOptions,
    UpscaleCancelled,
)
from workers.upscale.weights import LoadedModel

logger = logging.getLogger(__name__)

RowSink = Callable[[int, int, Any], None]  # output rows [y0, y1) ready once event (or None) fires

_LUMA = (0.299, 0.587, 0.114)  # the weights Pillow uses for RGB -> L


class _ShrinkTile(Exception):
    pass


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


CPU_MAX_TILE = 1024  # past this a CPU gains nothing from bigger tiles (context is < 4 %)
CPU_MEMORY_SHARE = 0.5  # of the memory available, as on CUDA (the estimate is generous)


def available_memory() -> int:
    """Bytes of memory the kernel says a new allocation can get (MemAvailable)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _bytes_per_pixel(loaded: LoadedModel) -> int:
    # Peak live activations per input pixel: a few 64-channel maps at the output resolution
    # (the upsampling convolutions) plus the dense-block features at the input resolution.
    element = torch.finfo(loaded.dtype).bits // 8
    scale = loaded.spec.scale
    return (64 * scale * scale * 4 + 600) * element


def choose_tiling(loaded: LoadedModel, options: TileOptions) -> tuple[int, int]:
    """(tile, batch). From free memory with a per-pixel activation estimate: on CUDA half the
    free device memory, filled with a batch of tiles; on the CPU half of the available
    memory as one tile as big as fits (up to CPU_MAX_TILE; a batch does not make a CPU faster,
    a bigger tile spends less on context). A compiled network keeps the tiling it was first
    run with (one input shape, one compilation)."""
    pinned = loaded.runtime.get("tiling") if loaded.compiled else None
    if pinned is not None:
        return pinned
    per_pixel = _bytes_per_pixel(loaded)
    if loaded.device.type != "cuda":
        if options.tile:
            return options.tile, options.batch or 1
        side = math.isqrt(int(available_memory() * CPU_MEMORY_SHARE // per_pixel))
        tile = (side - 2 * options.overlap) // 32 * 32
        return max(options.min_tile, min(CPU_MAX_TILE, tile)), options.batch or 1
    tile = options.tile or 512
    free, _total = torch.cuda.mem_get_info(loaded.device)
    per_tile = (tile + 2 * options.overlap) ** 2 * per_pixel
    while per_tile > free * 0.5 and tile > options.min_tile:
        tile = max(options.min_tile, tile // 2)
        per_tile = (tile + 2 * options.overlap) ** 2 * per_pixel
    batch = options.batch or max(1, min(16, int(free * 0.5 // per_tile)))
    return tile, batch


def _ramp_window(length: int, ramp: int, device: torch.device) -> torch.Tensor:
    """1 in the middle, linear ramps of ``ramp`` samples at both ends (never exactly 0)."""
    pos = torch.arange(length, device=device, dtype=torch.float32) + 0.5
    if ramp <= 0:
        return torch.ones(length, device=device)
    up = torch.clamp(pos / ramp, max=1.0)
    down = torch.clamp((length - pos) / ramp, max=1.0)
    return up * down


def allocate_output(shape: tuple[int, ...], dtype: np.dtype[Any], device: torch.device) -> Any:
    """Host memory for the result; pinned on CUDA so device-to-host copies run asynchronously."""
    torch_dtype = torch.uint8 if dtype == np.uint8 else torch.int32
    if device.type == "cuda":
        return torch.empty(shape, dtype=torch_dtype, pin_memory=True)
    return torch.empty(shape, dtype=torch_dtype)


def infer_tiled(
    loaded: LoadedModel,
    rgb: np.ndarray,
    *,
    max_value: int,
    grey: bool = False,
    options: TileOptions | None = None,
    progress: Callable[[int, int], bool] | None = None,
    on_rows: RowSink | None = None,
    on_reset: Callable[[], None] | None = None,
    allocate: Callable[..., torch.Tensor] | None = None,
) -> tuple[torch.Tensor, InferStats]:
    """Upscale ``rgb`` (H, W, 3; uint8 or uint16 values up to ``max_value``) by the model's
    scale. Returns host tensor (H·s, W·s, 1 or 3) of uint8 (``max_value`` 255) or int32."""
    options = _pinned_overlap(loaded, options or TileOptions())
    tile, batch = choose_tiling(loaded, options)
    if loaded.compiled:
        loaded.runtime.setdefault("tiling", (tile, batch))
    stats = InferStats(overlap=options.overlap)
    height, width = rgb.shape[:2]
    scale = loaded.spec.scale
    channels = 1 if grey else 3
    out = (allocate or allocate_output)(
        (height * scale, width * scale, channels),
        np.dtype(np.uint8) if max_value == 255 else np.dtype(np.int32),
        loaded.device,
    )
    wide = np.int32 if max_value > 255 else np.uint8
    source = torch.from_numpy(np.ascontiguousarray(rgb).astype(wide))
    source = source.to(loaded.device).permute(2, 0, 1).unsqueeze(0).float().div_(max_value)
    while True:
        try:
            _infer_once(
                loaded, source, out, tile, batch, grey, max_value, options, stats, progress, on_rows
            )
            stats.tile = tile
            if loaded.compiled:  # the shape it now compiled for (smaller after out of memory)
                loaded.runtime["tiling"] = (tile, stats.batch)
            return out, stats
        except _ShrinkTile:
            if tile <= options.min_tile:
                raise torch.OutOfMemoryError(
                    f"Out of memory even with {tile}-pixel tiles one at a time."
                ) from None
            tile = max(options.min_tile, tile // 2)
            batch = stats.batch or batch
            stats.oom_recoveries += 1
            stats.events.append(f"out of memory: tile shrunk to {tile}")
            logger.warning("upscale out of memory; retrying with %s px tiles", tile)
            if on_reset is not None:
                on_reset()


def infer_alpha(
    loaded: LoadedModel,
    alpha: np.ndarray,
    *,
    max_value: int,
    options: TileOptions | None = None,
    progress: Callable[[int, int], bool] | None = None,
) -> tuple[np.ndarray, InferStats]:
    """Real-ESRGAN's ``alpha_upsampler='realesrgan'``: the (H, W) alpha plane is replicated
    to three channels, goes through the same network as the colour, and one channel is kept
    (the luma of the three, as ``RealESRGANer`` does with ``BGR2GRAY``; the network's three
    outputs differ only slightly for grey input). Returns the (H·s, W·s) plane in ``alpha``'s
    dtype and the pass's statistics. Trained networks keep hard mask edges sharp, where a
    classical resize rings or blurs them; the classical resize stays the fallback."""
    rgb = np.repeat(alpha[:, :, None], 3, axis=2)
    out, stats = infer_tiled(
        loaded, rgb, max_value=max_value, grey=True, options=options, progress=progress
    )
    timed_sync(loaded.device)  # the last strips' device-to-host copies are asynchronous
    plane = out.numpy()[:, :, 0]  # values are already clamped to 0..max_value
    return np.ascontiguousarray(plane.astype(alpha.dtype)), stats


def _infer_once(
    loaded: LoadedModel,
    source: torch.Tensor,
    out: torch.Tensor,
    tile: int,
    batch: int,
    grey: bool,
    max_value: int,
    options: TileOptions,
    stats: InferStats,
    progress: Callable[[int, int], bool] | None,
    on_rows: RowSink | None,
) -> None:
    device, scale = loaded.device, loaded.spec.scale
    _, _, height, width = source.shape
    # A compiled network sees one tile shape (a small image is padded up to a full tile) and
    # any batch size from 2 up (_mark_batch_dynamic), so one compilation serves every image.
    fixed = loaded.compiled
    geo = tile_geometry(
        tile, height, width, options.overlap, border=options.border,
        multiple=loaded.spec.multiple_of, fixed=fixed,
    )  # fmt: skip
    edge = geo.border
    fits_reflect = max(edge, geo.pad_bottom) < height and max(edge, geo.pad_right) < width
    padded = F.pad(
        source,
        (edge, geo.pad_right, edge, geo.pad_bottom),
        mode="reflect" if fits_reflect else "replicate",
    )
    span_h, span_w = geo.span_h, geo.span_w
    ramp = 2 * geo.context * scale
    win_y = _ramp_window(span_h * scale, ramp, device)
    win_x = _ramp_window(span_w * scale, ramp, device)
    weight = win_y[:, None] * win_x[None, :]
    full_w = padded.shape[3] * scale
    full_h = padded.shape[2] * scale
    sum_x = torch.zeros(full_w, device=device)
    for x in geo.xs:
        sum_x[x * scale : (x + span_w) * scale] += win_x
    sum_y = torch.zeros(full_h, device=device)
    for y in geo.ys:
        sum_y[y * scale : (y + span_h) * scale] += win_y
    inv_x, inv_y = 1.0 / sum_x.clamp_min(1e-6), 1.0 / sum_y.clamp_min(1e-6)
    luma = torch.tensor(_LUMA, device=device).view(3, 1, 1)

    def emit(strip: torch.Tensor, top: int) -> None:
        # strip covers padded-output rows [top, top + len); keep the image's own rows/columns.
        first = max(top, edge * scale)
        last = min(top + strip.shape[1], (edge + height) * scale)
        if first >= last:
            return
        part = strip[:, first - top : last - top, edge * scale : (edge + width) * scale]
        part = part * inv_y[first:last, None] * inv_x[None, edge * scale : (edge + width) * scale]
        if grey:
            part = (part * luma).sum(0, keepdim=True)
        quantised = part.clamp_(0, 1).mul_(max_value).round_()
        quantised = quantised.to(torch.uint8 if max_value == 255 else torch.int32)
        y0, y1 = first - edge * scale, last - edge * scale
        target = out[y0:y1]
        event = None
        if device.type == "cuda":
            target.copy_(quantised.permute(1, 2, 0), non_blocking=True)
            event = torch.cuda.Event()
            event.record()
        else:
            target.copy_(quantised.permute(1, 2, 0))
        if on_rows is not None:
            on_rows(y0, y1, event)

    stats.batch = batch
    rows, cols = len(geo.ys), len(geo.xs)
    coords = [(r, c) for r in range(rows) for c in range(cols)]
    total = len(coords)
    stats.tiles = total
    stats.processed_pixels = geo.processed_pixels
    stats.image_pixels = height * width
    pending: dict[int, torch.Tensor] = {}
    left = dict.fromkeys(range(rows), cols)
    # Rows of tiles finished but not yet final (a later row still adds to them), from padded
    # output row carry_top on.
    carry: torch.Tensor | None = None
    carry_top = 0
    next_row = 0
    done = 0
    while done < total:
        chunk = coords[done : done + batch]
        tiles = torch.stack(
            [
                padded[0, :, geo.ys[r] : geo.ys[r] + span_h, geo.xs[c] : geo.xs[c] + span_w]
                for r, c in chunk
            ]
        ).to(loaded.dtype)
        if fixed and len(chunk) == 1 and batch > 1:
            tiles = torch.cat([tiles, tiles])  # see _mark_batch_dynamic
        if loaded.channels_last:
            tiles = tiles.contiguous(memory_format=torch.channels_last)
        if fixed:
            _mark_batch_dynamic(tiles)
        try:
            if options.before_forward is not None:
                options.before_forward(tuple(tiles.shape))
            result = _forward(loaded, tiles, stats)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            del tiles
            if device.type == "cuda":
                torch.cuda.empty_cache()
            if batch > 1:
                batch = stats.batch = max(1, batch // 2)
                stats.oom_recoveries += 1
                stats.events.append(f"out of memory: batch halved to {batch}")
                logger.warning("upscale out of memory; batch halved to %s", batch)
                continue
            raise _ShrinkTile from exc
        stats.forward_passes += 1
        for index, (r, c) in enumerate(chunk):
            buffer = pending.get(r)
            if buffer is None:
                buffer = pending[r] = torch.zeros(3, span_h * scale, full_w, device=device)
            x0 = geo.xs[c] * scale
            buffer[:, :, x0 : x0 + span_w * scale] += result[index].float() * weight
            left[r] -= 1
        del result, tiles
        while next_row < rows and left[next_row] == 0:
            buffer = pending.pop(next_row)
            top = geo.ys[next_row] * scale
            if carry is None:
                carry, carry_top = buffer, top
            else:
                end = max(carry_top + carry.shape[1], top + buffer.shape[1])
                grown = torch.zeros(3, end - carry_top, full_w, device=device)
                grown[:, : carry.shape[1]] = carry
                grown[:, top - carry_top : top - carry_top + buffer.shape[1]] += buffer
                carry = grown
            next_row += 1
            # Rows above the next tile row's first row get nothing more: they are final.
            final = geo.ys[next_row] * scale if next_row < rows else carry_top + carry.shape[1]
            emit(carry[:, : final - carry_top], carry_top)
            carry = carry[:, final - carry_top :].clone() if next_row < rows else None
            carry_top = final
        done += len(chunk)
        if progress is not None and not progress(done, total):
            raise UpscaleCancelled()


def _pinned_overlap(loaded: LoadedModel, options: TileOptions) -> TileOptions:
    """A compiled network keeps the overlap it was first run with too (it sets the shape)."""
    if not loaded.compiled:
        return options
    overlap = loaded.runtime.setdefault("overlap", options.overlap)
    return options if overlap == options.overlap else dataclasses.replace(options, overlap=overlap)


def tile_geometry(
    tile: int,
    height: int,
    width: int,
    overlap: int,
    *,
    border: int | None = None,
    multiple: int = 1,
    fixed: bool = False,
) -> TileGeometry:
    """Where the tiles of an image go (see :class:`TileGeometry` and the module docstring).

    Eager: each side is split into ``ceil(side / tile)`` equal tiles, just big enough to cover
    the image, its border and the overlaps, rounded up to ``multiple`` (what the architecture
    needs, e.g. 2 for a pixel-unshuffle ×2 network). Fixed (a compiled network, one input shape):
    every tile spans ``tile + 2 * context`` pixels; as many as cover the side, spread evenly so
    they overlap more rather than run past the image; an image smaller than one tile is padded
    up to it (the one case with real waste: a compiled worker's tile should suit its images)."""
    context = min(overlap, tile // 2) // 2 * 2
    edge = context if border is None else min(border, context)
    span_h, ys, after_h = _axis(height, tile, context, edge, multiple, fixed)
    span_w, xs, after_w = _axis(width, tile, context, edge, multiple, fixed)
    return TileGeometry(span_h, span_w, ys, xs, context, edge, after_h, after_w)


def _axis(
    side: int, tile: int, context: int, border: int, multiple: int, fixed: bool
) -> tuple[int, tuple[int, ...], int]:
    """(span, tile origins in the padded image, padding after the image) along one side.
    Spans and origins are multiples of ``multiple``: a pixel-unshuffle network must see the
    same pixel phase in every tile, or tiles would not blend into the whole-image result."""
    domain = side + 2 * border
    if fixed:
        span = multiple * math.ceil((tile + 2 * context) / multiple)
        count = 1 if domain <= span else math.ceil((domain - 2 * context) / (span - 2 * context))
    else:
        count = math.ceil(side / tile)
        # count spans that overlap by 2 * context cover the domain: count*span - (count-1)*2c.
        span = math.ceil((domain + (count - 1) * 2 * context) / count)
        span = multiple * math.ceil(span / multiple)
    while True:
        last = multiple * math.ceil(max(0, domain - span) / multiple)
        # Evenly spread, each origin rounded down to the multiple.
        spread = [last * i // max(1, count - 1) // multiple * multiple for i in range(count - 1)]
        origins = (*spread, last)
        gaps = [b - a for a, b in itertools.pairwise(origins)]
        if all(gap <= span - 2 * context for gap in gaps):
            break
        span += multiple  # rounding opened a gap wider than the overlap allows (rare)
    return span, origins, last + span - side - border


def _mark_batch_dynamic(tiles: torch.Tensor) -> None:
    """Let a compiled network take any batch size without compiling again: the batch
    dimension is compiled as a symbol. Size 1 is always compiled on its own by torch, so a
    compiled network with a batch of 2 or more never gets a single tile (it is sent twice)."""
    if tiles.shape[0] > 1:
        import torch._dynamo  # loaded by torch.compile anyway; named so older torch finds it

        torch._dynamo.mark_dynamic(tiles, 0)


def _forward(loaded: LoadedModel, tiles: torch.Tensor, stats: InferStats) -> torch.Tensor:
    """One pass. A compiled network that fails for any reason but memory (no compiler, a
    backend error) is given up for this process: the pass and every later one run eagerly."""
    with torch.inference_mode():
        if loaded.compiled:
            try:
                return loaded.network(tiles)
            except Exception as exc:
                if is_out_of_memory(exc):
                    raise
                reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
                loaded.runtime["compile_failed"] = reason
                stats.events.append(f"torch.compile failed ({reason}); ran without it")
                logger.warning("torch.compile of %s failed; running eagerly", loaded.spec.name)
        return loaded.plain(tiles)


def prepare(
    loaded: LoadedModel,
    options: TileOptions | None = None,
    *,
    keepalive: DeviceWait | None = None,
    poll: float | None = None,
) -> float:
    """Compile a compiled network for its tile shape before the first image, with one pass
    over blank tiles; returns the seconds it took (0 when there is nothing to do). Compiling
    takes from seconds to minutes, so it runs on a helper thread while this one calls
    ``keepalive(seconds so far)`` every ``poll`` seconds (a job renews its lease there and says
    why its bar waits); when that returns False, :class:`UpscaleCancelled` is raised once the
    compilation ends (it cannot be stopped part-way). Call it holding the device's turn."""
    if not loaded.compiled or loaded.runtime.get("prepared"):
        return 0.0
    options = _pinned_overlap(loaded, options or TileOptions())
    tile, batch = choose_tiling(loaded, options)
    loaded.runtime.setdefault("tiling", (tile, batch))
    geo = tile_geometry(
        tile, tile, tile, options.overlap, border=options.border,
        multiple=loaded.spec.multiple_of, fixed=True,
    )  # fmt: skip
    shape = (batch, 3, geo.span_h, geo.span_w)
    started = time.perf_counter()
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            blank = torch.zeros(shape, device=loaded.device, dtype=loaded.dtype)
            if loaded.channels_last:
                blank = blank.contiguous(memory_format=torch.channels_last)
            _mark_batch_dynamic(blank)
            _forward(loaded, blank, InferStats())
            timed_sync(loaded.device)
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    helper = threading.Thread(target=run, name="upscale-compile", daemon=True)
    helper.start()
    go_on = True
    while True:
        helper.join(poll or DEVICE_WAIT_POLL_S)
        if not helper.is_alive():
            break
        if keepalive is not None and go_on:
            go_on = keepalive(time.perf_counter() - started)
    error = outcome.get("error")
    if error is not None and not is_out_of_memory(error):
        raise error
    if error is not None:
        # Too big a batch for the memory left: the first pass finds the shape that fits
        # (halving as usual) and compiles for that one; it is pinned once it has worked.
        loaded.runtime.pop("tiling", None)
        if loaded.device.type == "cuda":
            torch.cuda.empty_cache()
        logger.warning("out of memory while compiling %s; the first pass picks the shape", shape)
    loaded.runtime["prepared"] = True
    if not go_on:
        raise UpscaleCancelled()
    return time.perf_counter() - started


def timed_sync(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


# --- one network pass at a time per device -----------------------------------------------------
# Why a lock and not two passes at once: each pass sizes its tiles and batch from the device's
# free memory and then fills it, so two passes would fight over memory (out-of-memory shrinks,
# restarts) and gain no speed; on the CPU they would only split its cores. Held for the network
# passes only; the holder's PNG encoder threads never take it (they wait on CUDA events, not on
# this lock), so a pass that holds it can always finish, and out-of-memory retries happen inside
# the pass. Process-wide: the Celery threads pool runs its jobs in one process.

DEVICE_WAIT_POLL_S = 1.0
_DEVICE_LOCKS: dict[str, threading.Lock] = {}
_DEVICE_LOCKS_GUARD = threading.Lock()


def device_lock(device: torch.device) -> threading.Lock:
    """The lock for one device of this process ("cuda" and "cuda:0" are the same device)."""
    index = device.index
    if index is None and device.type == "cuda":
        index = torch.cuda.current_device()
    key = device.type if index is None else f"{device.type}:{index}"
    with _DEVICE_LOCKS_GUARD:
        return _DEVICE_LOCKS.setdefault(key, threading.Lock())


@contextmanager
def device_turn(
    device: torch.device,
    *,
    on_wait: DeviceWait | None = None,
    max_wait: float | None = None,
    poll: float | None = None,
) -> Iterator[float]:
    """Hold ``device`` for network passes; yields the seconds spent waiting for it.

    While another job holds it, ``on_wait(seconds waited)`` runs at once and then every
    ``poll`` seconds (default ``DEVICE_WAIT_POLL_S``), so the caller can say so and renew its
    job's lease; when it returns False the wait ends with :class:`UpscaleCancelled`. Past
    ``max_wait`` seconds the holder is taken for stuck and the wait ends with
    :class:`DeviceBusy` (a thread cannot be killed the way a prefork child past its time limit
    is)."""
    lock = device_lock(device)
    started = time.perf_counter()
    if not lock.acquire(blocking=False):
        while True:
            waited = time.perf_counter() - started
            if max_wait is not None and waited >= max_wait:
                what = "GPU" if device.type == "cuda" else f"{device.type} device"
                took = f"{waited / 60:.0f} minutes" if waited >= 120 else f"{waited:.0f} s"
                raise DeviceBusy(
                    f"The {what} stayed busy with another job for {took}; that job may be "
                    "stuck. Retry, or restart the gpu worker if it keeps happening."
                )
            if on_wait is not None and not on_wait(waited):
                raise UpscaleCancelled()
            if lock.acquire(timeout=poll or DEVICE_WAIT_POLL_S):
                break
    try:
        yield time.perf_counter() - started
    finally:
        lock.release()
