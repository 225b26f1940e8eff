"""Upscaler benchmark: the project's engine against a reference loop written the way
Real-ESRGAN's own ``RealESRGANer`` works, on the same images and network, in one run.

    bin/bench-upscale                      # CPU: small images
    bin/bench-upscale --size 1024 --images 4   # on a GPU machine
    bin/bench-upscale --compile --json rates.json   # also the engine under torch.compile
    bin/bench-upscale --compile --compile-mode max-autotune   # (UPSCALE_COMPILE's modes)
    bin/bench-upscale --worker-jobs 8      # also 8 jobs through 1 and through 2 job threads
    bin/bench-upscale --size 320 --size 200x150:rgba --size 1100x700 --blocks 2 --skip-e2e
                                           # awkward sizes on a CPU, a table at the end

Prints input megapixels per second for the reference and the engine, their ratio, the pixels
each ran through the network per image pixel (``processed``: border, overlaps, rounding), and the
end-to-end job rate (decode + upscale + PNG master encode), which is what a worker achieves.
``--worker-jobs N`` runs N whole jobs (decode, upscale, PNG, writing the file) through one job
thread and then through two, as the gpu worker's ``--pool threads --concurrency 2`` does, and
prints both job rates, their ratio and how much of the time the device was busy. On a CPU the
two threads share the cores the network already uses, so expect little or no gain there; the
number that matters comes from a GPU (bin/gpu-check). Random weights: speed does not depend on
weight values. A performance claim comes from here, never from a timed test.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from workers.upscale.engine import infer_alpha, infer_tiled, prepare
from workers.upscale.engine_types import InferStats, TileOptions
from workers.upscale.imaging import classical_upscale
from workers.upscale.pipeline import UpscaleConfig, encode_pool, encode_threads, upscale_to_png
from workers.upscale.pngstream import DEFAULT_DEFLATE, DEFLATE_BACKENDS, encode_png
from workers.upscale.registry import MODELS, ModelSpec, file_sha256
from workers.upscale.weights import COMPILE_MODES, LoadedModel, load_model, pick_device


def reference_upscale(
    network: torch.nn.Module,
    image: np.ndarray,
    *,
    scale: int,
    device: torch.device,
    half: bool,
    tile: int = 512,
    tile_pad: int = 10,
    pre_pad: int = 10,
    processed: list[int] | None = None,
) -> np.ndarray:
    """RealESRGANer.enhance for an RGB uint8 image: one tile at a time, fp16 on CUDA, no
    channels_last, output assembled on the device, then numpy post-processing on the CPU.
    ``tile`` 0 runs the whole image at once (RealESRGANer's default). The input pixels of each
    pass are appended to ``processed``."""
    img = torch.from_numpy(np.transpose(image.astype(np.float32) / 255.0, (2, 0, 1))).float()
    img = img.unsqueeze(0).to(device)
    if half:
        img = img.half()
    img = F.pad(img, (0, pre_pad, 0, pre_pad), "reflect")
    batch, channel, height, width = img.shape
    output = img.new_zeros((batch, channel, height * scale, width * scale))
    tile = tile or max(width, height)
    tiles_x, tiles_y = math.ceil(width / tile), math.ceil(height / tile)
    for y in range(tiles_y):
        for x in range(tiles_x):
            ofs_x, ofs_y = x * tile, y * tile
            in_x0, in_x1 = ofs_x, min(ofs_x + tile, width)
            in_y0, in_y1 = ofs_y, min(ofs_y + tile, height)
            px0, px1 = max(in_x0 - tile_pad, 0), min(in_x1 + tile_pad, width)
            py0, py1 = max(in_y0 - tile_pad, 0), min(in_y1 + tile_pad, height)
            if processed is not None:
                processed.append((py1 - py0) * (px1 - px0))
            with torch.no_grad():
                out_tile = network(img[:, :, py0:py1, px0:px1])
            ox0, ox1 = (in_x0 - px0) * scale, (in_x0 - px0 + in_x1 - in_x0) * scale
            oy0, oy1 = (in_y0 - py0) * scale, (in_y0 - py0 + in_y1 - in_y0) * scale
            output[:, :, in_y0 * scale : in_y1 * scale, in_x0 * scale : in_x1 * scale] = out_tile[
                :, :, oy0:oy1, ox0:ox1
            ]
    output = output[:, :, : (height - pre_pad) * scale, : (width - pre_pad) * scale]
    out = output.data.squeeze().float().cpu().clamp_(0, 1).numpy()
    out = np.transpose(out, (1, 2, 0))
    return (out * 255.0).round().astype(np.uint8)


def _images(count: int, size: tuple[int, int], *, rgba: bool = False) -> list[np.ndarray]:
    """Noisy fractals, (H, W, 3) or with ``rgba`` (H, W, 4) with a soft-edged disc of alpha."""
    rng = np.random.default_rng(0)
    width, height = size
    out = []
    for index in range(count):
        base = Image.effect_mandelbrot((width, height), (-2 + index * 0.1, -1.2, 1, 1.2), 60)
        rgb = np.stack([np.asarray(base)] * 3, axis=2).astype(np.int16)
        noise = rng.integers(-20, 20, rgb.shape)
        pixels = np.clip(rgb + noise, 0, 255).astype(np.uint8)
        if rgba:
            yy, xx = np.mgrid[0:height, 0:width]
            distance = np.hypot((yy - height / 2) / height, (xx - width / 2) / width)
            alpha = np.clip((0.45 - distance) * 1000, 0, 255).astype(np.uint8)
            pixels = np.concatenate([pixels, alpha[:, :, None]], axis=2)
        out.append(pixels)
    return out


def parse_size(text: str) -> tuple[int, int, bool]:
    """``320``, ``200x150`` or ``200x150:rgba`` -> (width, height, rgba)."""
    shape, _, mode = text.partition(":")
    if mode not in ("", "rgb", "rgba"):
        raise argparse.ArgumentTypeError(f"{text!r}: the mode after ':' is rgb or rgba")
    width, _, height = shape.lower().partition("x")
    try:
        size = (int(width), int(height or width))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not N, WxH or WxH:rgba") from None
    return size[0], size[1], mode == "rgba"


def _sync(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def _install_random(spec: ModelSpec, folder: Path, blocks: int = 0) -> ModelSpec:
    from workers.upscale.archs import build_network

    if blocks and "num_block" in spec.arch_kwargs:
        # The same architecture with fewer RRDB blocks: a CPU run in minutes, not an hour.
        kwargs = {**spec.arch_kwargs, "num_block": blocks}
        spec = dataclasses.replace(spec, arch_kwargs=kwargs, label=f"{spec.label}, {blocks} blocks")
    torch.manual_seed(0)
    path = folder / spec.filename
    torch.save({spec.params_key: build_network(spec).state_dict()}, path)

    return dataclasses.replace(spec, sha256=file_sha256(path))


def worker_rates(encoded: list[bytes], jobs: int, *, upscale: dict[str, Any]) -> dict[str, float]:
    """``jobs`` whole jobs (decode, upscale, PNG master, written to a file) through one job
    thread, then through two, as the gpu worker runs them. Per thread count: jobs per second,
    the share of the wall time the device spent in network passes, and the seconds jobs spent
    waiting for the device (summed over jobs)."""
    work = [encoded[index % len(encoded)] for index in range(jobs)]
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as store:
        for threads in (1, 2):
            elapsed, busy, waited = _through_threads(work, threads, upscale, Path(store))
            rates[f"worker_{threads}t_jobs_s"] = jobs / elapsed
            rates[f"worker_{threads}t_device_busy"] = min(1.0, busy / elapsed)
            rates[f"worker_{threads}t_device_wait_s"] = waited
    rates["worker_threads_gain"] = rates["worker_2t_jobs_s"] / rates["worker_1t_jobs_s"]
    return rates


def _through_threads(
    work: list[bytes], threads: int, upscale: dict[str, Any], store: Path
) -> tuple[float, float, float]:
    busy: list[float] = []
    waited: list[float] = []

    def job(index: int) -> None:
        result = upscale_to_png(work[index], **upscale)
        (store / f"{threads}-{index}.png").write_bytes(result.png)
        timings = result.result.timings
        busy.append(timings.get("infer", 0.0) + timings.get("alpha", 0.0))  # list.append is atomic
        waited.append(timings.get("gpu_wait", 0.0))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads, thread_name_prefix="job") as pool:
        list(pool.map(job, range(len(work))))
    return time.perf_counter() - started, sum(busy), sum(waited)


def run(args: argparse.Namespace) -> dict[str, float]:
    """One size (``args.size``: (width, height, rgba)) through the reference, the engine and,
    unless ``args.skip_e2e``, whole jobs."""
    device = pick_device(args.device)
    spec = MODELS[args.model]
    width, height, rgba = args.size
    images = _images(args.images, (width, height), rgba=rgba)
    megapixels = sum(i.shape[0] * i.shape[1] for i in images) / 1e6
    with tempfile.TemporaryDirectory() as folder:
        pinned = _install_random(spec, Path(folder), args.blocks)
        loaded: LoadedModel = load_model(
            pinned, folder, device=args.device, precision=args.precision
        )
        half = loaded.dtype == torch.float16
        # The reference gets its own copy: no channels_last, fp16 only (as RealESRGANer).
        from workers.upscale.archs import build_network

        reference_net = build_network(pinned)
        reference_net.load_state_dict(loaded.network.state_dict())
        reference_net = reference_net.eval().to(device)
        if half:
            reference_net = reference_net.half()
        options = TileOptions(tile=args.tile or None, batch=args.batch or None)
        ref_tile = args.ref_tile or (512 if device.type == "cuda" else 128)

        config = UpscaleConfig(
            models_dir=folder, device=args.device, precision=args.precision,
            tile_options=options, png_level=args.png_level, png_deflate=args.deflate,
        )  # fmt: skip
        ref_processed: list[int] = []

        def reference(image: np.ndarray, counted: list[int] | None = None) -> None:
            # RealESRGANer with alpha_upsampler="realesrgan": the alpha as RGB, a second pass.
            planes = [image[:, :, :3]]
            if image.shape[2] == 4:
                planes.append(np.repeat(image[:, :, 3:], 3, axis=2))
            for plane in planes:
                reference_upscale(
                    reference_net,
                    plane,
                    scale=spec.scale,
                    device=device,
                    half=half,
                    tile=ref_tile,
                    processed=counted,
                )

        def engine(image: np.ndarray) -> tuple[Any, InferStats]:
            if image.shape[2] == 4:
                infer_alpha(loaded, image[:, :, 3], max_value=255, options=options)
            return infer_tiled(loaded, image[:, :, :3], max_value=255, options=options)

        if not args.no_warmup:
            # Warm-up (cuDNN autotuning, allocator) for both, on the first image.
            reference(images[0])
            engine(images[0])

        started = _sync(device)
        for image in images:
            reference(image, ref_processed)
        reference_s = _sync(device) - started

        started = _sync(device)
        for image in images:
            out, stats = engine(image)
        engine_s = _sync(device) - started

        compiled_s = compile_s = compiled_e2e_s = 0.0
        if args.compile:
            # The engine's own compiled path (UPSCALE_COMPILE): one tile shape, compiled once
            # by engine.prepare, then the same images.
            compiled = load_model(
                pinned,
                folder,
                device=args.device,
                precision=args.precision,
                compile_mode=args.compile_mode,
            )
            started = _sync(device)
            prepare(compiled, options)
            compile_s = _sync(device) - started
            if not compiled.compiled:
                print(f"torch.compile failed: {compiled.runtime.get('compile_failed')}")
            started = _sync(device)
            for image in images:
                infer_tiled(compiled, image, max_value=255, options=options)
            compiled_s = _sync(device) - started

        encoded = []
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "PNG")
            encoded.append(buffer.getvalue())
        started = time.perf_counter()
        sizes = []
        for data in [] if args.skip_e2e else encoded:
            result = upscale_to_png(data, model=pinned, config=config)
            sizes.append(len(result.png))
        e2e_s = 0.0 if args.skip_e2e else time.perf_counter() - started
        if args.compile and not args.skip_e2e:
            started = time.perf_counter()
            for data in encoded:
                compiled_config = dataclasses.replace(config, compile_mode=args.compile_mode)
                upscale_to_png(data, model=pinned, config=compiled_config)
            compiled_e2e_s = time.perf_counter() - started

        worker: dict[str, float] = {}
        if args.worker_jobs:
            upscale = {"model": pinned, "config": config}
            worker = worker_rates(encoded, args.worker_jobs, upscale=upscale)

        encode: dict[str, float] = {}
        if args.pillow_encode:
            pixels = out.numpy()
            if args.encode_photo:
                # Random weights make unnatural output; a real photo resized the same way is
                # closer to what trained weights give the encoder.
                with Image.open(args.encode_photo) as photo:
                    rgb = np.asarray(photo.convert("RGB"))
                pixels = classical_upscale(
                    rgb, (rgb.shape[1] * spec.scale, rgb.shape[0] * spec.scale)
                )
            encode = _encode_compare(pixels, args.png_level, args.deflate)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name} ({device}, {loaded.dtype}, torch {torch.__version__})")
    passes = 2 if rgba else 1
    print(
        f"model: {pinned.label} (random weights), {len(images)} images of {width}×{height}"
        f"{' RGBA (alpha through the network too)' if rgba else ''}, "
        f"engine tile {stats.tile} batch {stats.batch} overlap {stats.overlap}, "
        f"reference tile {ref_tile or 'whole image'} pad 10"
    )
    rates = {
        "reference_mp_s": megapixels / reference_s,
        "engine_mp_s": megapixels / engine_s,
        "reference_s": reference_s,
        "engine_s": engine_s,
        # Per pass (the alpha pass has the same tiles): network input pixels per image pixel.
        "engine_processed_ratio": stats.processed_ratio,
        "reference_processed_ratio": sum(ref_processed) / passes / (megapixels * 1e6),
    }
    rates["speedup"] = rates["engine_mp_s"] / rates["reference_mp_s"]
    if not args.skip_e2e:
        rates["e2e_mp_s"] = megapixels / e2e_s
        rates["e2e_jobs_s"] = len(images) / e2e_s
        rates["e2e_over_engine"] = rates["e2e_mp_s"] / rates["engine_mp_s"]
    if args.compile:
        rates["compiled_mp_s"] = megapixels / compiled_s
        rates["compile_s"] = compile_s
    if args.compile and not args.skip_e2e:
        rates["compiled_e2e_mp_s"] = megapixels / compiled_e2e_s
        rates["compiled_e2e_over_engine"] = rates["compiled_e2e_mp_s"] / rates["compiled_mp_s"]
    rates.update(worker)
    print(f"reference (RealESRGANer-style loop): {rates['reference_mp_s']:.4g} input MP/s")
    print(f"engine (batched, blended tiles):     {rates['engine_mp_s']:.4g} input MP/s")
    print(f"engine / reference:                  {rates['speedup']:.2f}×")
    print(
        f"pixels processed / image pixels:     engine {rates['engine_processed_ratio']:.3f}, "
        f"reference {rates['reference_processed_ratio']:.3f} (per pass)"
    )
    if not args.skip_e2e:
        print(
            f"end to end (decode+upscale+PNG {args.deflate} L{args.png_level}): "
            f"{rates['e2e_mp_s']:.4g} input MP/s, "
            f"{rates['e2e_jobs_s']:.4g} jobs/s, {rates['e2e_over_engine']:.2f} of the engine rate, "
            f"mean PNG {sum(sizes) / len(sizes) / 1e6:.2f} MB"
        )
    if args.compile:
        e2e = (
            f"; end to end {rates['compiled_e2e_mp_s']:.4g} input MP/s "
            f"({rates['compiled_e2e_over_engine']:.2f} of the compiled engine)"
            if "compiled_e2e_mp_s" in rates
            else ""
        )
        print(
            f"engine under torch.compile ({args.compile_mode}): {rates['compiled_mp_s']:.4g} "
            f"input MP/s (compiling took {compile_s:.1f} s), "
            f"{rates['compiled_mp_s'] / rates['reference_mp_s']:.2f}× the reference{e2e}"
        )
    if worker:
        for threads in (1, 2):
            label = f"worker, {threads} job thread{'s' if threads > 1 else ''}:"
            print(
                f"{label:<37}{worker[f'worker_{threads}t_jobs_s']:.4g} jobs/s "
                f"({args.worker_jobs} jobs), device busy "
                f"{worker[f'worker_{threads}t_device_busy']:.0%} of the time, jobs waited "
                f"{worker[f'worker_{threads}t_device_wait_s']:.2f} s for it in all"
            )
        print(f"2 job threads / 1:                   {worker['worker_threads_gain']:.2f}×")
    if encode:
        rates.update(encode)
        print(
            f"PNG encode of one output ({encode['encode_mp']:.1f} MP): ours "
            f"({args.deflate} L{args.png_level}, {encode['encode_threads']:.0f} threads) "
            f"{encode['encode_ours_s']:.3f} s, {encode['encode_ours_mb']:.2f} MB; Pillow's default "
            f"(zlib L6, one thread) {encode['encode_pillow_s']:.3f} s, "
            f"{encode['encode_pillow_mb']:.2f} MB: {encode['encode_speedup']:.1f}×"
        )
    if args.json:
        record = {
            "device": name,
            "dtype": str(loaded.dtype),
            "torch": torch.__version__,
            "model": pinned.label if args.blocks else spec.name,
            "size": f"{width}x{height}{' RGBA' if rgba else ''}",
            "images": len(images),
            "tile": stats.tile,
            "batch": stats.batch,
            **rates,
        }
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return rates


def _encode_compare(pixels: np.ndarray, level: int, deflate: str) -> dict[str, float]:
    """One upscaled output encoded by the master's writer and by Pillow's default save, side by
    side (the writer as the job runs it, but after the fact instead of during inference)."""
    pool = encode_pool()
    encode_png(pixels[:256], level=level, deflate=deflate, pool=pool)  # warm the pool's threads
    started = time.perf_counter()
    ours = encode_png(pixels, level=level, deflate=deflate, pool=pool)
    ours_s = time.perf_counter() - started
    buffer = io.BytesIO()
    started = time.perf_counter()
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, "PNG")
    pillow_s = time.perf_counter() - started
    return {
        "encode_mp": pixels.shape[0] * pixels.shape[1] / 1e6,
        "encode_threads": float(encode_threads()),
        "encode_ours_s": ours_s,
        "encode_ours_mb": len(ours) / 1e6,
        "encode_pillow_s": pillow_s,
        "encode_pillow_mb": len(buffer.getvalue()) / 1e6,
        "encode_speedup": pillow_s / ours_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="x4plus", choices=sorted(MODELS))
    parser.add_argument(
        "--size",
        type=parse_size,
        action="append",
        help="input size: N, WxH or WxH:rgba (alpha through the network too); repeat for "
        "several sizes, e.g. --size 320 --size 200x150:rgba --size 1100x700 (default: CPU 48, "
        "GPU 1024)",
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=0,
        help="RRDBNet models: this many RRDB blocks instead of 23 (a faster CPU run; the same "
        "layers, so the engine/reference ratio holds)",
    )
    parser.add_argument("--skip-e2e", action="store_true", help="only the reference and engine")
    parser.add_argument(
        "--no-warmup", action="store_true", help="no warm-up pass (slow CPU runs; GPU needs it)"
    )
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp16", "bf16", "fp32"])
    parser.add_argument("--tile", type=int, default=0)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--ref-tile", type=int, default=0)
    parser.add_argument("--png-level", type=int, default=2, help="as UPSCALE_PNG_LEVEL")
    parser.add_argument("--deflate", default=DEFAULT_DEFLATE, choices=DEFLATE_BACKENDS)
    parser.add_argument(
        "--pillow-encode",
        action="store_true",
        help="also encode one output with the master's writer and with Pillow, side by side",
    )
    parser.add_argument(
        "--encode-photo",
        default="",
        help="with --pillow-encode: encode this photo upscaled classically at the model's scale "
        "instead of the random-weights output",
    )
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument(
        "--compile-mode", default="default", choices=[m for m in COMPILE_MODES if m]
    )
    parser.add_argument(
        "--worker-jobs",
        type=int,
        default=0,
        help="also run this many whole jobs through 1 and through 2 job threads",
    )
    parser.add_argument("--json", default="", help="write the rates to this JSON file")
    args = parser.parse_args(argv)
    sizes = args.size or [parse_size("1024" if pick_device(args.device).type == "cuda" else "48")]
    if args.json and len(sizes) > 1:
        parser.error("--json takes one --size")
    results = []
    for size in sizes:
        args.size = size
        results.append((size, run(args)))
        print()
    if len(results) > 1:
        print("size                 reference s   engine s   engine/ref   processed: engine  ref")
        for (width, height, rgba), rates in results:
            label = f"{width}×{height}{' RGBA' if rgba else ''}"
            print(
                f"{label:<20} {rates['reference_s']:>11.2f} {rates['engine_s']:>10.2f} "
                f"{rates['speedup']:>11.2f}× {rates['engine_processed_ratio']:>17.3f} "
                f"{rates['reference_processed_ratio']:>5.3f}"
            )


if __name__ == "__main__":
    main()
