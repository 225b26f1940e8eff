"""Tile geometry, the border rule and tiled-versus-whole output, on the CPU.

The geometry is plain arithmetic; the output tests run small random-weight basicsr networks
against the same network run directly (see tests/upscales/builders.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFilter

from tests.images import pattern_image
from tests.upscales.builders import requires_upscaler, small_spec, write_checkpoint
from workers.upscale.pipeline import UpscaleConfig


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _cpu_default_tile(monkeypatch, available: int, spec_name: str = "x4plus") -> int:
    """The tile the CPU picks for ``spec_name`` with ``available`` bytes of free memory."""
    import torch

    from workers.upscale import engine
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.registry import MODELS
    from workers.upscale.weights import LoadedModel

    monkeypatch.setattr(engine, "available_memory", lambda: available)
    loaded = LoadedModel(
        MODELS[spec_name], torch.nn.Identity(), "", torch.device("cpu"), torch.float32, False
    )
    tile, batch = engine.choose_tiling(loaded, TileOptions())
    assert batch == 1
    return tile


@pytest.mark.parametrize("size", [(320, 320), (200, 150), (1100, 700)])
def test_default_tiles_run_the_network_on_at_most_a_third_more_pixels_than_the_image(
    monkeypatch, size
):
    from workers.upscale.engine import tile_geometry
    from workers.upscale.engine_types import TileOptions

    width, height = size
    defaults = TileOptions()
    cpu_tile = _cpu_default_tile(monkeypatch, 8 << 30)  # a CPU worker with 8 GiB free
    for tile in (cpu_tile, 512):  # 512: the CUDA default before the memory check shrinks it
        geo = tile_geometry(tile, height, width, defaults.overlap, border=defaults.border)
        ratio = geo.processed_pixels / (width * height)
        assert ratio <= 1.3, (tile, size, ratio)


def test_the_old_geometry_case_no_longer_runs_a_row_of_mostly_padding():
    """A 320-pixel side with 128-pixel tiles ran as 3 × 128 = 384 pixels plus context; it is
    now three equal tiles that just cover it."""
    from workers.upscale.engine import tile_geometry

    geo = tile_geometry(128, 320, 320, 16, border=10)
    assert len(geo.ys) == len(geo.xs) == 3
    assert geo.span_h == geo.span_w == 135  # ceil((320 + 2·10 + 2·2·16) / 3)
    assert geo.ys == (0, 102, 205) and geo.pad_bottom == 10


@pytest.mark.parametrize(
    ("side", "tile", "overlap", "multiple", "fixed"),
    [
        (320, 128, 16, 1, False),
        (1100, 512, 16, 1, False),
        (150, 128, 16, 2, False),
        (37, 12, 4, 4, False),
        (513, 512, 16, 1, False),
        (1100, 512, 16, 1, True),
        (200, 512, 16, 1, True),
        (97, 24, 4, 2, True),
    ],
)
def test_tiles_cover_the_padded_image_overlap_by_the_context_and_have_the_shape_it_needs(
    side, tile, overlap, multiple, fixed
):
    from workers.upscale.engine import tile_geometry

    geo = tile_geometry(tile, side, side, overlap, border=10, multiple=multiple, fixed=fixed)
    assert geo.span_h % multiple == 0
    assert all(y % multiple == 0 for y in geo.ys), "one pixel phase for unshuffle networks"
    assert geo.ys[0] == 0
    assert geo.ys[-1] + geo.span_h == geo.border + side + geo.pad_bottom
    assert geo.pad_bottom >= geo.border
    for before, after in zip(geo.ys, geo.ys[1:], strict=False):
        assert geo.span_h - (after - before) >= 2 * geo.context  # overlap at least 2·context
    if fixed:
        assert geo.span_h >= tile + 2 * geo.context
        assert geo.span_h - (tile + 2 * geo.context) < multiple
    else:
        assert len(geo.ys) == -(-side // tile)
        assert geo.pad_bottom - geo.border < multiple  # no more fill than the rounding


def _network(tmp_path, name="x4plus", strength=2.0):
    from workers.upscale.weights import load_model

    spec = write_checkpoint(small_spec(name), tmp_path, strength=strength)
    return load_model(spec, tmp_path)


def test_one_tile_is_exactly_the_network_on_the_image_reflected_by_ten_pixels_all_round(
    tmp_path,
):
    """The border rule (engine docstring): the engine's single-tile output is the network run
    directly on ``F.pad(image, (10, 10, 10, 10), "reflect")``, cropped, to the quantisation
    level; it is not RealESRGANer's 10 pixels right and bottom only."""
    import torch
    import torch.nn.functional as F

    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions

    loaded = _network(tmp_path)
    image = np.asarray(pattern_image((45, 37)).filter(ImageFilter.DETAIL))
    out, stats = infer_tiled(loaded, image, max_value=255, options=TileOptions(tile=256))
    assert stats.tiles == 1 and stats.processed_pixels == 65 * 57

    def plain(pad: tuple[int, int, int, int]) -> np.ndarray:
        x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            y = loaded.network(F.pad(x, pad, mode="reflect"))
        left, _right, top, _bottom = (p * 4 for p in pad)
        y = y[0, :, top : top + 37 * 4, left : left + 45 * 4]
        return (y.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()

    ours = out.numpy()
    all_round = plain((10, 10, 10, 10))
    assert np.abs(ours.astype(int) - all_round.astype(int)).max() <= 1
    right_bottom = plain((0, 10, 0, 10))  # RealESRGANer's pre_pad
    assert np.abs(ours.astype(int) - right_bottom.astype(int)).max() > 1, "the rule is visible"


# x2plus unshuffles its input by 2 first, so 8 pixels of context are 4 of its own: a lower
# bound (measured 43.4 dB; 31.6 dB before tile origins kept the unshuffle phase).
@pytest.mark.parametrize(("name", "least_db"), [("x4plus", 45), ("x2plus", 41)])
def test_tiled_output_equals_one_tile_within_the_blend_bound_at_a_size_off_the_tile_grid(
    tmp_path, name, least_db
):
    """70 × 53 with 24-pixel tiles: 3 × 3 balanced tiles that are not multiples of the tile,
    same border and overlap as the single tile; bound as in test_upscale_engine's
    test_tiled_output_matches_one_big_tile_within_the_stated_bound (45 dB, 24 levels)."""
    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions

    loaded = _network(tmp_path, name)
    image = np.asarray(pattern_image((70, 53)).filter(ImageFilter.DETAIL))
    whole, one = infer_tiled(loaded, image, max_value=255, options=TileOptions(tile=256, overlap=8))
    tiled, stats = infer_tiled(
        loaded, image, max_value=255, options=TileOptions(tile=24, overlap=8, batch=4)
    )
    assert one.tiles == 1 and stats.tiles == 9 and stats.forward_passes == 3
    assert tiled.shape == whole.shape == (53 * loaded.spec.scale, 70 * loaded.spec.scale, 3)
    psnr = _psnr(whole.numpy(), tiled.numpy())
    assert psnr >= least_db, psnr
    assert np.abs(whole.numpy().astype(int) - tiled.numpy().astype(int)).max() <= 24


def test_the_cpu_picks_bigger_tiles_from_available_memory_within_its_limits(monkeypatch):
    from workers.upscale.engine import CPU_MAX_TILE

    small = _cpu_default_tile(monkeypatch, 1 << 30)
    large = _cpu_default_tile(monkeypatch, 8 << 30)
    assert 32 <= small < large <= CPU_MAX_TILE
    assert _cpu_default_tile(monkeypatch, 1 << 40) == CPU_MAX_TILE
    assert _cpu_default_tile(monkeypatch, 0) == 32  # never below min_tile


def test_the_pipeline_reports_pixels_processed_per_image_pixel(monkeypatch, tmp_path):
    from tests.upscales.builders import install
    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions

    spec = install(monkeypatch, small_spec("general-x4v3"), tmp_path)
    result = upscale_image(
        pattern_image((40, 30), "RGBA"),
        model=spec.name,
        config=UpscaleConfig(models_dir=tmp_path, tile_options=TileOptions(tile=64)),
    )
    assert result.stats["processed_pixels"] == 60 * 50
    assert result.stats["alpha_processed_pixels"] == 60 * 50
    assert result.stats["image_pixels"] == 1200
    assert result.stats["processed_ratio"] == 2.5, "per pass: 10 reflected pixels all round"
