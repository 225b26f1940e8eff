"""The neural engine on the CPU with real basicsr architectures and random-weight checkpoints.

Skips without torch/basicsr, except under CI=true (bin/_setup.sh dev installs them there).
"""

from __future__ import annotations

import dataclasses
import io
import sys

import numpy as np
import pytest
from PIL import Image

from tests.images import encode_jpeg, encode_png, pattern_image, png_16bit_rgb_bytes
from tests.upscales.checkpoints import install, requires_upscaler, small_spec, write_checkpoint


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()


def _psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)


def _identity_compact(monkeypatch, tmp_path, *, residual: float = 0.0):
    """SRVGGNetCompact adds the nearest-upsampled input to its body's output; with the last
    convolution zeroed (or tiny) the network is (almost) exactly a nearest-neighbour ×4."""
    import torch

    from workers.upscale.archs import build_network
    from workers.upscale.registry import file_sha256

    spec = small_spec("general-x4v3")
    torch.manual_seed(3)
    network = build_network(spec)
    with torch.no_grad():
        last = network.body[-1]
        last.weight.mul_(residual)
        last.bias.zero_()
    path = tmp_path / spec.filename
    torch.save({"params": network.state_dict()}, path)
    pinned = dataclasses.replace(spec, sha256=file_sha256(path))
    from workers.upscale import registry
    from workers.upscale.weights import clear_cache

    monkeypatch.setitem(registry.MODELS, spec.name, pinned)
    clear_cache()
    return pinned


def _loaded(spec, tmp_path, **kw):
    import torch

    from workers.upscale.weights import load_model

    write = write_checkpoint(spec, tmp_path, **kw)
    del torch
    return write, load_model(write, tmp_path)


def test_basicsr_imports_through_the_functional_tensor_alias():
    from workers.upscale.archs import install_functional_tensor_alias

    module = install_functional_tensor_alias()
    assert sys.modules["torchvision.transforms.functional_tensor"] is module
    assert callable(module.rgb_to_grayscale)
    # basicsr's own module that needs the old name imports cleanly.
    from basicsr.data import degradations

    assert degradations.rgb_to_grayscale is module.rgb_to_grayscale


@pytest.mark.parametrize("name", ["x4plus", "x2plus", "general-x4v3"])
def test_official_layout_checkpoints_load_through_the_registry(monkeypatch, tmp_path, name):
    from workers.upscale.registry import MODELS
    from workers.upscale.weights import load_model

    spec = install(monkeypatch, MODELS[name], tmp_path)  # the full-size architecture
    loaded = load_model(spec, tmp_path)
    assert loaded.sha256 == spec.sha256
    assert load_model(spec, tmp_path) is loaded, "a model is loaded once per process"
    image = np.asarray(pattern_image((12, 8)))
    from workers.upscale.engine import infer_tiled

    out, _ = infer_tiled(loaded, image, max_value=255)
    assert out.shape == (8 * spec.scale, 12 * spec.scale, 3)


def test_a_file_with_another_checksum_is_refused(tmp_path):
    from workers.upscale.weights import WeightsError, verify_weights

    spec = write_checkpoint(small_spec("general-x4v3"), tmp_path)
    other = dataclasses.replace(spec, sha256="0" * 64)
    with pytest.raises(WeightsError, match="pinned to 0000"):
        verify_weights(tmp_path / spec.filename, other)


def test_a_file_of_the_wrong_architecture_is_refused_even_with_the_right_checksum(tmp_path):
    from workers.upscale.registry import file_sha256
    from workers.upscale.weights import WeightsError, verify_weights

    x2 = write_checkpoint(small_spec("x2plus"), tmp_path)
    x4 = small_spec("x4plus")
    path = tmp_path / x4.filename
    (tmp_path / x2.filename).rename(path)
    pinned = dataclasses.replace(x4, sha256=file_sha256(path))
    with pytest.raises(WeightsError, match="shape"):
        verify_weights(path, pinned)


def test_pickled_code_is_never_loaded(tmp_path):
    import torch

    from workers.upscale.registry import file_sha256
    from workers.upscale.weights import WeightsError, verify_weights

    spec = small_spec("general-x4v3")
    path = tmp_path / spec.filename
    torch.save({"params": {"x": torch.zeros(1)}, "hook": Image.Image}, path)
    pinned = dataclasses.replace(spec, sha256=file_sha256(path))
    with pytest.raises(WeightsError, match="not a readable weights file"):
        verify_weights(path, pinned)


def test_tiled_output_matches_one_big_tile_within_the_stated_bound(tmp_path):
    """Bound: PSNR >= 45 dB and max difference <= 24 levels against a single tile, with 8
    pixels of overlap, on a network whose weights are doubled so each output pixel really
    depends on a wide neighbourhood (measured: 49.5 dB, 16 levels); tiles without overlap are
    far worse (measured: 22.6 dB)."""
    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions

    _spec, loaded = _loaded(small_spec("x4plus"), tmp_path, strength=2.0)
    image = np.asarray(
        pattern_image((72, 56)).filter(__import__("PIL.ImageFilter").ImageFilter.DETAIL)
    )
    whole, _ = infer_tiled(loaded, image, max_value=255, options=TileOptions(tile=128))
    tiled, stats = infer_tiled(
        loaded, image, max_value=255, options=TileOptions(tile=24, overlap=8, batch=3)
    )
    seams, _ = infer_tiled(
        loaded, image, max_value=255, options=TileOptions(tile=24, overlap=0, batch=3)
    )
    assert stats.tiles == 9 and stats.forward_passes == 3
    blended_psnr = _psnr(whole.numpy(), tiled.numpy())
    assert blended_psnr >= 45, blended_psnr
    assert np.abs(whole.numpy().astype(int) - tiled.numpy().astype(int)).max() <= 24
    assert blended_psnr > _psnr(whole.numpy(), seams.numpy()) + 15


def test_downscaled_output_matches_the_input_colours_and_geometry(monkeypatch, tmp_path):
    """Catches channel swaps, offsets, flips, black or NaN output through the whole pipeline
    (decode, tiles, blending, quantising, PNG): a near-identity network, then a box downscale."""
    from workers.upscale import upscale_to_png
    from workers.upscale.engine_types import TileOptions

    spec = _identity_compact(monkeypatch, tmp_path, residual=0.02)
    source = pattern_image((53, 37))
    encoded = upscale_to_png(
        encode_png(source), model=spec.name, models_dir=tmp_path,
        tile_options=TileOptions(tile=16, overlap=4, batch=2),
    )  # fmt: skip
    assert encoded.result.neural and encoded.result.weights_sha256 == spec.sha256
    with Image.open(io.BytesIO(encoded.png)) as im:
        assert im.size == (212, 148)
        back = np.asarray(im.convert("RGB").resize(source.size, Image.Resampling.BOX))
    diff = np.abs(back.astype(int) - np.asarray(source).astype(int))
    assert diff.mean() < 3 and np.percentile(diff, 99) < 20


def test_an_exact_identity_network_gives_exactly_nearest_neighbour_output(monkeypatch, tmp_path):
    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions

    spec = _identity_compact(monkeypatch, tmp_path, residual=0.0)
    source = np.asarray(pattern_image((45, 31)))
    result = upscale_image(
        Image.fromarray(source), model=spec.name, models_dir=tmp_path,
        tile_options=TileOptions(tile=12, overlap=4, batch=4),
    )  # fmt: skip
    assert np.array_equal(result.pixels, source.repeat(4, axis=0).repeat(4, axis=1))


def test_out_of_memory_halves_the_batch_then_the_tile_and_still_finishes(monkeypatch, tmp_path):
    import torch

    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions

    spec = _identity_compact(monkeypatch, tmp_path)
    shapes = []

    def fake_gpu_limit(shape):
        shapes.append(shape)
        if shape[0] > 1 or shape[2] > 24:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    source = np.asarray(pattern_image((40, 30)))
    result = upscale_image(
        Image.fromarray(source), model=spec.name, models_dir=tmp_path,
        tile_options=TileOptions(tile=32, overlap=4, batch=4, min_tile=8,
                                 before_forward=fake_gpu_limit),
    )  # fmt: skip
    assert result.stats["oom_recoveries"] >= 3
    assert result.stats["tile"] == 16 and result.stats["batch"] == 1
    assert np.array_equal(result.pixels, source.repeat(4, axis=0).repeat(4, axis=1))


def test_cancelling_through_progress_stops_the_run(monkeypatch, tmp_path):
    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions, UpscaleCancelled

    spec = _identity_compact(monkeypatch, tmp_path)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return done < 2

    with pytest.raises(UpscaleCancelled):
        upscale_image(
            encode_png(pattern_image((40, 40))), model=spec.name, models_dir=tmp_path,
            tile_options=TileOptions(tile=16, overlap=4, batch=1), progress=progress,
        )  # fmt: skip
    assert calls == [(1, 9), (2, 9)]


@pytest.mark.parametrize(
    ("make", "mode", "channels"),
    [
        (lambda: encode_png(pattern_image((30, 20), "RGBA")), "RGBA", 4),
        (lambda: encode_png(pattern_image((30, 20), "L")), "L", 1),
        (lambda: encode_png(pattern_image((30, 20), "I;16")), "I;16", 1),
        (lambda: png_16bit_rgb_bytes((30, 20)), "RGB;16", 3),
        (lambda: encode_jpeg(pattern_image((30, 20)), exif_orientation=8), "RGB", 3),
    ],
)
def test_alpha_grey_and_sixteen_bit_come_out_as_they_went_in(
    monkeypatch, tmp_path, make, mode, channels
):
    from workers.upscale import upscale_image, upscale_to_png

    spec = _identity_compact(monkeypatch, tmp_path)
    data = make()
    result = upscale_image(data, model=spec.name, models_dir=tmp_path, scale=3)
    assert result.mode == mode and result.pixels.shape[2] == channels
    encoded = upscale_to_png(data, model=spec.name, models_dir=tmp_path, scale=3)
    assert (encoded.result.width, encoded.result.height) == (result.width, result.height)
    expected = (60, 90) if "EXIF orientation 8 applied" in result.notes else (90, 60)
    assert (result.width, result.height) == expected
    if mode == "RGBA":
        alpha = result.pixels[:, :, 3]
        assert alpha[0].min() == 255 and alpha[-1].max() < 40  # the fade to transparent kept
    if mode == "I;16":
        assert result.pixels.dtype == np.uint16 and int(result.pixels.max()) > 255


def test_missing_weights_fall_back_to_the_labelled_classical_upscaler(tmp_path):
    from workers.upscale import upscale_image

    result = upscale_image(encode_png(pattern_image((20, 20))), model="x4plus", models_dir=tmp_path)
    assert not result.neural and result.model_name == "classical"
    assert "Lanczos" in result.model_label and "not neural" in result.model_label
    assert any("weights are not installed" in note for note in result.notes)
    assert result.pixels.shape == (80, 80, 3)


def test_weights_that_fail_their_checksum_are_an_error_not_a_fallback(monkeypatch, tmp_path):
    from workers.upscale import upscale_image
    from workers.upscale.weights import WeightsError

    spec = _identity_compact(monkeypatch, tmp_path)
    (tmp_path / spec.filename).write_bytes(b"not the file")
    with pytest.raises(WeightsError, match="SHA-256"):
        upscale_image(encode_png(pattern_image((20, 20))), model=spec.name, models_dir=tmp_path)


def test_in_memory_result_gives_a_pillow_image_for_channel_exports(monkeypatch, tmp_path):
    from workers.upscale import upscale_image

    spec = _identity_compact(monkeypatch, tmp_path)
    result = upscale_image(pattern_image((20, 10)), model=spec.name, models_dir=tmp_path)
    image = result.to_pil()
    assert image.size == (80, 40) and image.mode == "RGB"
    with Image.open(io.BytesIO(result.encode_png())) as decoded:
        assert np.array_equal(np.asarray(decoded), result.pixels)


def test_out_of_memory_even_at_the_smallest_tile_is_a_clear_failure(monkeypatch, tmp_path):
    import torch

    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions

    spec = _identity_compact(monkeypatch, tmp_path)

    def no_memory_at_all(shape):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(torch.OutOfMemoryError, match="even with 8-pixel tiles one at a time"):
        upscale_image(
            Image.fromarray(np.asarray(pattern_image((40, 30)))), model=spec.name,
            models_dir=tmp_path,
            tile_options=TileOptions(tile=32, overlap=4, batch=4, min_tile=8,
                                     before_forward=no_memory_at_all),
        )  # fmt: skip
