"""Benchmark: every default preset from one 24 MP master, the engine against the naive way.

    bin/bench-exports            (or: python -m workers.render_bench [--repeat N] [--png])

The naive way re-opens the master and resizes it with Pillow for each preset (crop, Lanczos,
save), as a script written without thinking about it would. Both run pinned to one CPU core
with libvips limited to one thread, on the same master and the same crops, and write the same
formats. Prints both times and the ratio. Framework-free: no Django.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.focal import Box
    from workers.render import PresetSpec


def make_master(width: int = 6000, height: int = 4000, *, png: bool = False) -> bytes:
    """A photo-like 24 MP master (gradients, texture, a subject), encoded as a camera would."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(24)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = x / width * 200 + 20
    green = y / height * 180 + 30
    blue = 128 + 60 * np.sin(x / 300) * np.cos(y / 250)
    pixels = np.stack([red, green, blue], axis=-1) + rng.normal(0, 6, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    ImageDraw.Draw(image).ellipse((3400, 1300, 4400, 2600), fill=(30, 60, 230))
    buffer = io.BytesIO()
    if png:
        image.save(buffer, "PNG", compress_level=1)
    else:
        image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def naive(data: bytes, presets: Sequence[PresetSpec], crops: Mapping[str, Box]) -> list[bytes]:
    from PIL import Image

    outputs = []
    for preset in presets:
        box = crops[preset.slug]
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
            region = image.crop((box.x, box.y, box.right, box.bottom))
            resized = region.resize(preset.size, Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            resized.save(buffer, preset.format, quality=preset.quality)
            outputs.append(buffer.getvalue())
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    parser.add_argument("--png", action="store_true", help="a PNG master instead of a JPEG")
    args = parser.parse_args()

    # One core for both sides, and libvips told so before it starts its thread pool.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    os.environ["VIPS_CONCURRENCY"] = "1"
    from workers import render

    render.configure(concurrency=1)
    from workers.focal import Box
    from workers.presets import DEFAULT_PRESETS
    from workers.render import plan_crops, render_channel_versions

    data = make_master(png=args.png)
    focal = Box(3400, 1300, 1000, 1300)
    crops = {
        slug: box for slug, (box, _) in plan_crops((6000, 4000), DEFAULT_PRESETS, focal).items()
    }
    print(
        f"master: 6000×4000 {'PNG' if args.png else 'JPEG'}, {len(data) / 1e6:.1f} MB; "
        f"{len(DEFAULT_PRESETS)} default presets; one core"
    )

    engine_times, naive_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = render_channel_versions(data, DEFAULT_PRESETS, crops)
        engine_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        naive(data, DEFAULT_PRESETS, crops)
        naive_times.append(time.perf_counter() - start)
    assert all(r.status != "too_small" for r in results)
    engine_s, naive_s = statistics.median(engine_times), statistics.median(naive_times)
    print(f"engine (one decode, libvips):     {engine_s:.3f} s")
    print(f"naive (re-open + Pillow resize):  {naive_s:.3f} s")
    print(f"ratio: {naive_s / engine_s:.1f}× faster (target ≥ 8×; engine target < 0.5 s)")


if __name__ == "__main__":
    main()
