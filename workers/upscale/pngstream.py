"""A PNG writer that takes rows as they are produced and compresses strips in parallel.

Why not Pillow: Pillow encodes a large master on one core, and only once the whole image
exists. Here each finished strip of rows is filtered and deflated in a thread pool (zlib and
ISA-L release the GIL) while the GPU works on the next strips, as parts of about
``PART_BYTES`` side by side. Parts are independent raw-deflate streams joined at
``Z_SYNC_FLUSH`` byte boundaries (the pigz method), so the result is one ordinary zlib stream
that every decoder reads. Pillow cannot write 16-bit RGB at all; this writer can, which is how
16-bit drafts keep their depth.

Deflate: ISA-L (the ``isal`` package) when it is installed, else zlib; both write the same
format. ISA-L's fast levels cost a small fraction of zlib's per megapixel for a file a few per
cent larger, and on a large master that decides whether the encoder keeps up with the GPU
(the figures, and the command that measures them: docs/performance.md, "PNG master").
Levels are zlib's 0-9; ISA-L has 0-3 and takes higher numbers as its 3.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from workers.imaging.containers import PNG_SIGNATURE

try:
    from isal import isal_zlib as _isal_zlib
except ImportError:  # no isal wheel for this platform: zlib writes the same format, slower
    _isal_zlib = None  # type: ignore[assignment]

DEFLATE_BACKENDS = ("isal", "zlib")
DEFAULT_DEFLATE = "isal" if _isal_zlib is not None else "zlib"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+A, RGB, RGBA)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _paeth_filter(rows: np.ndarray, previous: np.ndarray | None, bpp: int) -> bytes:
    """Filter type 4 (Paeth) on every row: a good predictor for photographs, and vectorised.

    One int16 copy holds the row above the strip and the strip, so "up", "left" and
    "up-left" are views of it, not copies; Paeth's three distances are |b - c|, |a - c| and
    |(a - c) + (b - c)| for left a, up b and up-left c. The first pixel of a row has no left
    neighbour (a = c = 0), where Paeth always predicts b."""
    height = rows.shape[0]
    raw = rows.reshape(height, -1)
    if raw.dtype != np.uint8:
        raw = raw.astype(">u2").view(np.uint8).reshape(height, -1)  # PNG is big-endian
    width = raw.shape[1]
    ext = np.empty((height + 1, width), dtype=np.int16)
    ext[0] = 0 if previous is None else previous
    ext[1:] = raw
    here, left = ext[1:, bpp:], ext[1:, :-bpp]
    up, upleft = ext[:-1, bpp:], ext[:-1, :-bpp]
    dist_b = left - upleft  # |p - b| once made absolute
    dist_a = up - upleft  # |p - a|
    dist_c = dist_a + dist_b  # |p - c|
    np.abs(dist_a, out=dist_a)
    np.abs(dist_b, out=dist_b)
    np.abs(dist_c, out=dist_c)
    predictor = np.where(dist_b <= dist_c, up, upleft)
    np.copyto(predictor, left, where=(dist_a <= dist_b) & (dist_a <= dist_c))
    np.subtract(here, predictor, out=predictor)
    out = np.empty((height, width + 1), dtype=np.uint8)
    out[:, 0] = 4
    out[:, 1 + bpp :] = predictor  # int16 to uint8 wraps modulo 256, as PNG defines
    out[:, 1 : 1 + bpp] = ext[1:, :bpp] - ext[:-1, :bpp]
    return out.tobytes()


def _raw_deflater(backend: str, level: int) -> tuple[Any, int, int]:
    """(compressor for a raw deflate stream, its sync-flush mode, its finish mode)."""
    if backend == "isal":
        if _isal_zlib is None:
            raise ValueError("the isal package is not installed; use deflate='zlib'")
        return (
            _isal_zlib.compressobj(max(0, min(level, 3)), _isal_zlib.DEFLATED, -15),
            _isal_zlib.Z_SYNC_FLUSH,
            _isal_zlib.Z_FINISH,
        )
    if backend == "zlib":
        return zlib.compressobj(level, zlib.DEFLATED, -15), zlib.Z_SYNC_FLUSH, zlib.Z_FINISH
    raise ValueError(f"unknown deflate backend {backend!r}; use one of {DEFLATE_BACKENDS}")


def _last_row_bytes(rows: np.ndarray) -> np.ndarray:
    last = rows[-1].reshape(-1)
    if last.dtype != np.uint8:
        last = last.astype(">u2").view(np.uint8)
    return last.copy()


# Raw bytes per compressed part: enough work per task that the pool's overhead and the sync
# flush between parts stay small, little enough that one strip keeps every thread busy.
PART_BYTES = 2 << 20


class _Once:
    """Calls ``fetch`` the first time it is called, from whichever thread; every caller gets
    that one result (or its exception)."""

    def __init__(self, fetch: Callable[[], tuple[np.ndarray, np.ndarray | None]]) -> None:
        self._fetch: Callable[[], tuple[np.ndarray, np.ndarray | None]] | None = fetch
        self._lock = threading.Lock()
        self._result: tuple[np.ndarray, np.ndarray | None] | None = None
        self._error: BaseException | None = None

    def __call__(self) -> tuple[np.ndarray, np.ndarray | None]:
        with self._lock:
            if self._fetch is not None:
                fetch, self._fetch = self._fetch, None
                try:
                    self._result = fetch()
                except BaseException as exc:
                    self._error = exc
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class PngStreamWriter:
    """Feed rows top to bottom with :meth:`add_rows`; :meth:`finish` returns the PNG bytes."""

    def __init__(
        self,
        width: int,
        height: int,
        channels: int,
        *,
        bit_depth: int = 8,
        icc_profile: bytes | None = None,
        level: int = 2,
        deflate: str | None = None,
        workers: int | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        if channels not in _COLOUR_TYPES:
            raise ValueError(f"PNG cannot hold {channels} channels")
        if bit_depth not in (8, 16):
            raise ValueError("bit_depth must be 8 or 16")
        self.width, self.height, self.channels = width, height, channels
        self.bit_depth = bit_depth
        self.level = level
        self.deflate = deflate or DEFAULT_DEFLATE
        _raw_deflater(self.deflate, level)  # refuse an unknown or missing backend now
        self.bpp = channels * bit_depth // 8
        self._icc = icc_profile
        self._own_pool = pool is None
        self._pool = pool or ThreadPoolExecutor(max_workers=workers or min(16, os.cpu_count() or 2))
        self._parts: list[Future[bytes]] = []
        row_bytes = width * channels * bit_depth // 8
        self._part_rows = max(16, -(-PART_BYTES // max(1, row_bytes)))
        self._rows_done = 0
        self._previous: np.ndarray | None = None
        self._adler = 1

    def reset(self) -> None:
        """Forget every row given so far (the producer is starting over)."""
        for part in self._parts:
            part.cancel()
        self._parts = []
        self._rows_done = 0
        self._previous = None
        self._adler = 1

    def add_rows(self, rows: np.ndarray) -> None:
        expected = (self.width, self.channels) if rows.ndim == 3 else (self.width,)
        if rows.shape[1:] != expected and not (self.channels == 1 and rows.shape[1:] == (1,)):
            raise ValueError(f"rows of shape {rows.shape} do not fit {self.width}×{self.channels}")
        if self._rows_done + rows.shape[0] > self.height:
            raise ValueError("more rows than the image height")
        if rows.shape[0] == 0:
            return
        previous = self._previous
        self._previous = _last_row_bytes(rows)
        self._queue(rows.shape[0], lambda: (rows, previous))

    def add_strip(
        self, count: int, fetch: Callable[[], tuple[np.ndarray, np.ndarray | None]]
    ) -> None:
        """Add ``count`` rows that ``fetch`` returns later, on a pool thread, together with the
        row above them (or None at the top). Lets a producer hand over rows whose device-to-host
        copy is still in flight: ``fetch`` waits for it, not the producer."""
        if self._rows_done + count > self.height:
            raise ValueError("more rows than the image height")
        self._queue(count, fetch)

    def _queue(self, count: int, fetch: Callable[[], tuple[np.ndarray, np.ndarray | None]]) -> None:
        """Compress ``count`` rows as parts of about PART_BYTES each, side by side on the pool:
        a strip as tall as a row of GPU tiles (2048 rows of 4096 pixels at ×4) would otherwise
        be one thread's work after the last pass. ``fetch`` runs once, for the first part."""
        if count == 0:
            return
        once = _Once(fetch)
        first_row = self._rows_done
        self._rows_done += count
        for start in range(0, count, self._part_rows):
            stop = min(count, start + self._part_rows)
            final = first_row + stop == self.height
            self._parts.append(self._pool.submit(self._compress, once, start, stop, final))

    def _compress(self, once: _Once, start: int, stop: int, final: bool) -> bytes:
        rows, previous = once()
        part = rows[start:stop]
        above = previous if start == 0 else rows[start - 1]
        if above is not None and above.dtype != np.uint8:
            above = _last_row_bytes(above[None])
        elif above is not None:
            above = above.reshape(-1)
        filtered = _paeth_filter(part, above, self.bpp)
        compressor, sync_flush, finish = _raw_deflater(self.deflate, self.level)
        body = compressor.compress(filtered)
        body += compressor.flush(finish if final else sync_flush)
        # The adler32 of the whole stream is combined in order in finish(); per part here.
        return struct.pack(">I", zlib.adler32(filtered)) + struct.pack(">I", len(filtered)) + body

    def finish(self) -> bytes:
        if self._rows_done != self.height:
            raise ValueError(f"only {self._rows_done} of {self.height} rows were written")
        try:
            strips = [part.result() for part in self._parts]
        finally:
            if self._own_pool:
                self._pool.shutdown(wait=False)
        colour_type = _COLOUR_TYPES[self.channels]
        header = struct.pack(
            ">IIBBBBB", self.width, self.height, self.bit_depth, colour_type, 0, 0, 0
        )
        out = [PNG_SIGNATURE, _chunk(b"IHDR", header)]
        if self._icc:
            out.append(_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(self._icc)))
        adler = 1
        first = True
        for strip in strips:
            strip_adler, strip_len = struct.unpack(">II", strip[:8])
            adler = _adler32_combine(adler, strip_adler, strip_len)
            body = strip[8:]
            if first:
                body = b"\x78\x9c" + body  # zlib header: deflate, 32 KiB window
                first = False
            out.append(_chunk(b"IDAT", body))
        out.append(_chunk(b"IDAT", struct.pack(">I", adler)))
        out.append(_chunk(b"IEND", b""))
        return b"".join(out)


_ADLER_BASE = 65521


def _adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """zlib's adler32_combine (not exposed by Python's zlib module)."""
    rem = len2 % _ADLER_BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (adler2 & 0xFFFF) + _ADLER_BASE - 1
    sum2 += ((adler1 >> 16) & 0xFFFF) + ((adler2 >> 16) & 0xFFFF) + _ADLER_BASE - rem
    if sum1 >= _ADLER_BASE:
        sum1 -= _ADLER_BASE
    if sum1 >= _ADLER_BASE:
        sum1 -= _ADLER_BASE
    if sum2 >= (_ADLER_BASE << 1):
        sum2 -= _ADLER_BASE << 1
    if sum2 >= _ADLER_BASE:
        sum2 -= _ADLER_BASE
    return sum1 | (sum2 << 16)


def encode_png(
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    level: int = 2,
    deflate: str | None = None,
    strip_rows: int = 256,
    pool: ThreadPoolExecutor | None = None,
) -> bytes:
    """Encode a whole array (H, W[, C], uint8 or uint16) with the parallel writer."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    writer = PngStreamWriter(
        pixels.shape[1],
        pixels.shape[0],
        channels,
        bit_depth=16 if pixels.dtype == np.uint16 else 8,
        icc_profile=icc_profile,
        level=level,
        deflate=deflate,
        pool=pool,
    )
    for y in range(0, pixels.shape[0], strip_rows):
        writer.add_rows(pixels[y : y + strip_rows])
    return writer.finish()
