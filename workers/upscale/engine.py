"""Tiled neural inference: overlapping tiles, blended seams, batched tiles, OOM recovery.

The image is padded (reflect) so that every tile has the same shape, which lets tiles of any
row and column share a batch. Each tile carries ``overlap`` input pixels of context on every
side; outputs are blended with linear ramps across the overlaps (the ramps of neighbouring tiles
sum to one), so no seam is visible. Rows of tiles finish top to bottom; as soon as a row is
complete its output strip is normalised, quantised *on the device*, copied to (pinned) host
memory and announced to ``on_rows`` — the PNG encoder compresses it while the next rows run.

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
import logging
import math
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


def choose_tiling(loaded: LoadedModel, options: TileOptions) -> tuple[int, int]:
    """(tile, batch). On CUDA, from free memory with a per-pixel activation estimate; on the
    CPU small tiles, since a batch does not make a CPU faster. A compiled network keeps the
    tiling it was first run with (one input shape, one compilation)."""
    pinned = loaded.runtime.get("tiling") if loaded.compiled else None
    if pinned is not None:
        return pinned
    if loaded.device.type != "cuda":
        return options.tile or 128, options.batch or 1
    tile = options.tile or 512
    free, _total = torch.cuda.mem_get_info(loaded.device)
    element = torch.finfo(loaded.dtype).bits // 8
    scale = loaded.spec.scale
    # Peak live activations per input pixel: a few 64-channel maps at the output resolution
    # (the upsampling convolutions) plus the dense-block features at the input resolution.
    per_pixel = (64 * scale * scale * 4 + 600) * element
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
    tile_h, tile_w, pad = tile_geometry(tile, height, width, options.overlap, fixed=fixed)
    rows, cols = math.ceil(height / tile_h), math.ceil(width / tile_w)
    pad_bottom = rows * tile_h - height + pad
    pad_right = cols * tile_w - width + pad
    fits_reflect = max(pad, pad_bottom) < height and max(pad, pad_right) < width
    padded = F.pad(
        source, (pad, pad_right, pad, pad_bottom), mode="reflect" if fits_reflect else "replicate"
    )
    span_h, span_w = tile_h + 2 * pad, tile_w + 2 * pad
    ramp = 2 * pad * scale
    win_y = _ramp_window(span_h * scale, ramp, device)
    win_x = _ramp_window(span_w * scale, ramp, device)
    weight = win_y[:, None] * win_x[None, :]
    full_w = (cols * tile_w + 2 * pad) * scale
    full_h = (rows * tile_h + 2 * pad) * scale
    sum_x = torch.zeros(full_w, device=device)
    for c in range(cols):
        sum_x[c * tile_w * scale : c * tile_w * scale + span_w * scale] += win_x
    sum_y = torch.zeros(full_h, device=device)
    for r in range(rows):
        sum_y[r * tile_h * scale : r * tile_h * scale + span_h * scale] += win_y
    inv_x, inv_y = 1.0 / sum_x.clamp_min(1e-6), 1.0 / sum_y.clamp_min(1e-6)
    luma = torch.tensor(_LUMA, device=device).view(3, 1, 1)

    def emit(strip: torch.Tensor, top: int) -> None:
        # strip covers padded-output rows [top, top + len); keep the image's own rows/columns.
        first = max(top, pad * scale)
        last = min(top + strip.shape[1], (pad + height) * scale)
        if first >= last:
            return
        part = strip[:, first - top : last - top, pad * scale : (pad + width) * scale]
        part = part * inv_y[first:last, None] * inv_x[None, pad * scale : (pad + width) * scale]
        if grey:
            part = (part * luma).sum(0, keepdim=True)
        quantised = part.clamp_(0, 1).mul_(max_value).round_()
        quantised = quantised.to(torch.uint8 if max_value == 255 else torch.int32)
        y0, y1 = first - pad * scale, last - pad * scale
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
    coords = [(r, c) for r in range(rows) for c in range(cols)]
    total = len(coords)
    stats.tiles = total
    pending: dict[int, torch.Tensor] = {}
    left = dict.fromkeys(range(rows), cols)
    carry: torch.Tensor | None = None
    next_row = 0
    done = 0
    while done < total:
        chunk = coords[done : done + batch]
        tiles = torch.stack(
            [
                padded[0, :, r * tile_h : r * tile_h + span_h, c * tile_w : c * tile_w + span_w]
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
            x0 = c * tile_w * scale
            buffer[:, :, x0 : x0 + span_w * scale] += result[index].float() * weight
            left[r] -= 1
        del result, tiles
        while next_row < rows and left[next_row] == 0:
            buffer = pending.pop(next_row)
            if carry is not None:
                buffer[:, : carry.shape[1]] += carry
            is_last = next_row == rows - 1
            final_rows = span_h * scale if is_last else tile_h * scale
            carry = None if is_last else buffer[:, final_rows:].clone()
            emit(buffer[:, :final_rows], next_row * tile_h * scale)
            next_row += 1
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
    tile: int, height: int, width: int, overlap: int, *, fixed: bool = False
) -> tuple[int, int, int]:
    """(tile height, tile width, context pad) for an image. Tiles are square up to the
    image's own size (rounded up to 4 for pixel-unshuffle models), or always ``tile`` when
    ``fixed``; overlaps must not reach past the next row of tiles, and stay even."""
    tile_h = tile if fixed else min(tile, 4 * math.ceil(height / 4))
    tile_w = tile if fixed else min(tile, 4 * math.ceil(width / 4))
    pad = min(overlap, tile_h // 2, tile_w // 2) // 2 * 2
    return tile_h, tile_w, pad


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
    tile_h, tile_w, pad = tile_geometry(tile, tile, tile, options.overlap, fixed=True)
    shape = (batch, 3, tile_h + 2 * pad, tile_w + 2 * pad)
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
