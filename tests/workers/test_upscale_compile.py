"""torch.compile in the engine (UPSCALE_COMPILE): one input shape per compiled network, the
compilation done once on a helper thread while the job stays alive, and a compiler that fails
leaving the network running eagerly. A stand-in for torch.compile records what the compiled
network is given; one test compiles for real with Inductor on the CPU."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from tests.images import encode_png, pattern_image
from tests.upscales.builders import identity_compact, install, requires_upscaler, small_spec
from workers.upscale.pipeline import UpscaleCallbacks, UpscaleConfig


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()


class _Recorder:
    """What torch.compile returns, in these tests: the network itself, noting each call."""

    def __init__(
        self,
        network,
        *,
        fail: BaseException | None = None,
        fail_from_call: int = 1,
        first_call_s: float = 0,
    ):
        self.network = network
        self.fail = fail
        self.fail_from_call = fail_from_call
        self.first_call_s = first_call_s
        self.shapes: list[tuple[int, ...]] = []
        self.dynamic: list[set[int]] = []  # the dimensions marked dynamic for torch.compile
        self.threads: list[str] = []

    def __call__(self, tiles):
        self.shapes.append(tuple(tiles.shape))
        self.dynamic.append(set(getattr(tiles, "_dynamo_dynamic_indices", ())))
        self.threads.append(threading.current_thread().name)
        if self.fail is not None and len(self.shapes) >= self.fail_from_call:
            raise self.fail
        if len(self.shapes) == 1 and self.first_call_s:
            time.sleep(self.first_call_s)  # "compiling"
        return self.network(tiles)


@pytest.fixture
def fake_compile(monkeypatch):
    import torch

    made: list[_Recorder] = []
    options: dict = {}

    def compile_(network, **kwargs):
        options.update(kwargs)
        recorder = _Recorder(network, **options.pop("_recorder", {}))
        made.append(recorder)
        return recorder

    def configure(**recorder_kwargs):
        options["_recorder"] = recorder_kwargs
        return made, options

    monkeypatch.setattr(torch, "compile", compile_)
    return configure


def test_a_compiled_network_sees_one_tile_shape_and_a_dynamic_batch_of_two_or_more(
    monkeypatch, tmp_path, fake_compile
):
    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    made, options = fake_compile()
    spec = identity_compact(monkeypatch, tmp_path)
    loaded = load_model(spec, tmp_path, compile_mode="default")
    assert loaded.compiled and options == {"mode": None, "dynamic": False}
    tiling = TileOptions(tile=24, overlap=4, batch=3)
    # A small image (one tile, smaller than the tile: sent twice), a large one (4 × 3 tiles:
    # 4 batches of 3) and one of 2 × 2 tiles (a batch of 3, then one tile, sent twice).
    for size in ((20, 14), (90, 70), (40, 30)):
        source = np.asarray(pattern_image(size))
        out, stats = infer_tiled(loaded, source, max_value=255, options=tiling)
        assert np.array_equal(out.numpy(), source.repeat(4, axis=0).repeat(4, axis=1)), size
        assert stats.tile == 24 and stats.batch == 3
    shapes = made[0].shapes
    assert {shape[1:] for shape in shapes} == {(3, 32, 32)}, "24-pixel tiles + 4 on each side"
    assert sorted({shape[0] for shape in shapes}) == [2, 3]
    assert all(dynamic == {0} for dynamic in made[0].dynamic), "the batch is a symbol"
    assert loaded.runtime["tiling"] == (24, 3)


def test_the_pinned_tiling_outlives_the_options_of_later_jobs(monkeypatch, tmp_path, fake_compile):
    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    made, _ = fake_compile()
    spec = identity_compact(monkeypatch, tmp_path)
    loaded = load_model(spec, tmp_path, compile_mode="max-autotune")
    source = np.asarray(pattern_image((30, 30)))
    infer_tiled(loaded, source, max_value=255, options=TileOptions(tile=16, overlap=4, batch=2))
    _, stats = infer_tiled(loaded, source, max_value=255, options=TileOptions(tile=64))
    assert stats.tile == 16 and {shape[1:] for shape in made[0].shapes} == {(3, 24, 24)}


def test_a_compiler_that_fails_leaves_the_network_running_eagerly_with_a_note(
    monkeypatch, tmp_path, fake_compile
):
    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    made, _ = fake_compile(fail=RuntimeError("backend exploded\nlong trace"))
    spec = identity_compact(monkeypatch, tmp_path)
    source = np.asarray(pattern_image((33, 21)))
    options = TileOptions(tile=16, overlap=4, batch=2)
    for _ in range(2):
        result = upscale_image(
            Image.fromarray(source),
            model=spec.name,
            config=UpscaleConfig(models_dir=tmp_path, compile_mode="default", tile_options=options),
        )
        assert np.array_equal(result.pixels, source.repeat(4, axis=0).repeat(4, axis=1))
        assert any(
            "torch.compile failed here" in note and "RuntimeError: backend exploded" in note
            for note in result.notes
        ), result.notes
    assert len(made[0].shapes) == 1, "given up after the first failure, for the whole process"
    loaded = load_model(spec, tmp_path, compile_mode="default")
    assert not loaded.compiled and loaded.compile_mode == "default"


def test_a_compiler_failing_inside_a_pass_is_noted_on_that_same_job(
    monkeypatch, tmp_path, fake_compile
):
    from workers.upscale import upscale_image
    from workers.upscale.engine_types import TileOptions

    # The first call (the job's prepare, on blank tiles) compiles; the pass's first call fails,
    # as a recompile for a new shape would.
    made, _ = fake_compile(fail=RuntimeError("recompile failed"), fail_from_call=2)
    spec = identity_compact(monkeypatch, tmp_path)
    source = np.asarray(pattern_image((33, 21)))
    result = upscale_image(
        Image.fromarray(source),
        model=spec.name,
        config=UpscaleConfig(
            models_dir=tmp_path,
            compile_mode="default",
            tile_options=TileOptions(tile=16, overlap=4, batch=2),
        ),
    )
    assert np.array_equal(result.pixels, source.repeat(4, axis=0).repeat(4, axis=1))
    assert len(made[0].shapes) == 2, "prepared, then given up at the pass's first call"
    assert any(
        "torch.compile failed here" in note and "RuntimeError: recompile failed" in note
        for note in result.notes
    ), result.notes
    assert any("torch.compile failed" in event for event in result.stats["events"])


def test_out_of_memory_in_a_compiled_network_is_not_taken_for_a_compiler_failure(
    monkeypatch, tmp_path, fake_compile
):
    import torch

    from workers.upscale.engine import infer_tiled
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    calls = []

    def limit(shape):
        calls.append(shape)
        if shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    fake_compile()
    loaded = load_model(identity_compact(monkeypatch, tmp_path), tmp_path, compile_mode="default")
    source = np.asarray(pattern_image((30, 20)))
    out, stats = infer_tiled(
        loaded,
        source,
        max_value=255,
        options=TileOptions(tile=16, overlap=4, batch=4, before_forward=limit),
    )
    assert loaded.compiled and stats.batch == 1
    assert loaded.runtime["tiling"] == (16, 1), "the next job starts at the shape that fitted"
    assert np.array_equal(out.numpy(), source.repeat(4, axis=0).repeat(4, axis=1))


def test_prepare_compiles_once_on_a_helper_thread_while_the_job_is_kept_alive(
    monkeypatch, tmp_path, fake_compile
):
    from workers.upscale.engine import prepare
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    made, _ = fake_compile(first_call_s=0.4)
    loaded = load_model(identity_compact(monkeypatch, tmp_path), tmp_path, compile_mode="default")
    heard: list[float] = []
    took = prepare(
        loaded,
        TileOptions(tile=16, overlap=4, batch=2),
        keepalive=lambda s: heard.append(s) or True,
        poll=0.05,
    )
    assert took >= 0.4 and len(heard) >= 4 and heard == sorted(heard)
    assert made[0].shapes == [(2, 3, 24, 24)] and made[0].threads == ["upscale-compile"]
    assert prepare(loaded, keepalive=lambda s: pytest.fail("nothing left to compile")) == 0.0


def test_cancelling_while_it_compiles_ends_the_job_once_the_compilation_is_done(
    monkeypatch, tmp_path, fake_compile
):
    from workers.upscale.engine import prepare
    from workers.upscale.engine_types import TileOptions, UpscaleCancelled
    from workers.upscale.weights import load_model

    fake_compile(first_call_s=0.3)
    loaded = load_model(identity_compact(monkeypatch, tmp_path), tmp_path, compile_mode="default")
    asked: list[float] = []
    with pytest.raises(UpscaleCancelled):
        prepare(
            loaded,
            TileOptions(tile=16, batch=1),
            keepalive=lambda s: asked.append(s) and False,
            poll=0.05,
        )
    assert len(asked) == 1, "asked once, then only waited for the compiler"
    assert loaded.runtime["prepared"], "the next job need not compile again"


def test_out_of_memory_while_compiling_leaves_the_shape_to_the_first_pass(
    monkeypatch, tmp_path, fake_compile
):
    import torch

    from workers.upscale.engine import infer_tiled, prepare
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    made, _ = fake_compile()
    loaded = load_model(identity_compact(monkeypatch, tmp_path), tmp_path, compile_mode="default")

    def limit(shape):
        if shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    options = TileOptions(tile=16, overlap=4, batch=4, before_forward=limit)
    monkeypatch.setattr(made[0], "fail", torch.OutOfMemoryError("CUDA out of memory (simulated)"))
    prepare(loaded, options)
    assert loaded.runtime["prepared"] and "tiling" not in loaded.runtime and loaded.compiled
    monkeypatch.setattr(made[0], "fail", None)
    source = np.asarray(pattern_image((30, 20)))
    out, stats = infer_tiled(loaded, source, max_value=255, options=options)
    assert stats.batch == 1 and loaded.runtime["tiling"] == (16, 1)
    assert np.array_equal(out.numpy(), source.repeat(4, axis=0).repeat(4, axis=1))


def test_the_first_job_compiles_and_says_so_later_jobs_do_not(monkeypatch, tmp_path, fake_compile):
    from workers.upscale import upscale_to_png
    from workers.upscale.engine_types import TileOptions

    fake_compile(first_call_s=0.2)
    spec = identity_compact(monkeypatch, tmp_path)
    data = encode_png(pattern_image((40, 24)))
    config = UpscaleConfig(
        models_dir=tmp_path, compile_mode="default",
        tile_options=TileOptions(tile=16, overlap=4, batch=2),
    )  # fmt: skip
    kwargs = {"model": spec.name, "config": config}
    first = upscale_to_png(
        data, **kwargs, callbacks=UpscaleCallbacks(preparing=lambda s: True)
    ).result
    second = upscale_to_png(
        data,
        **kwargs,
        callbacks=UpscaleCallbacks(preparing=lambda s: pytest.fail("compiled again")),
    )
    assert first.timings["compile"] >= 0.2
    assert any(n.startswith("network compiled (torch.compile, default)") for n in first.notes)
    assert "compile" not in second.result.timings
    assert not any("compile" in n for n in second.result.notes)


def test_an_unknown_compile_mode_is_refused_by_name(monkeypatch, tmp_path):
    from workers.upscale.weights import WeightsError, load_model

    spec = identity_compact(monkeypatch, tmp_path)
    with pytest.raises(WeightsError, match=r"Unknown torch\.compile mode 'fastest'"):
        load_model(spec, tmp_path, compile_mode="fastest")


def test_inductor_on_the_cpu_compiles_the_real_network_to_the_same_output(monkeypatch, tmp_path):
    """The real torch.compile (Inductor, C++ on the CPU): the compiled x4plus-architecture
    network gives the eager network's pixels to within one level (fused operations round
    differently), with one compilation for the one tile shape and every batch size."""
    from workers.upscale.engine import infer_tiled, prepare
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    spec = install(monkeypatch, small_spec("x4plus"), tmp_path)
    eager = load_model(spec, tmp_path)
    compiled = load_model(spec, tmp_path, compile_mode="default")
    from torch._dynamo.utils import counters

    counters.clear()
    options = TileOptions(tile=16, overlap=4, batch=2)
    assert prepare(compiled, options) > 0
    assert compiled.compiled, compiled.runtime.get("compile_failed")
    for size in ((28, 20), (40, 40)):  # 2 batches of 2 tiles; 4 of 2 and a single one
        source = np.asarray(pattern_image(size))
        want, _ = infer_tiled(eager, source, max_value=255, options=options)
        got, _ = infer_tiled(compiled, source, max_value=255, options=options)
        assert np.abs(want.numpy().astype(int) - got.numpy().astype(int)).max() <= 1
    assert compiled.compiled, compiled.runtime.get("compile_failed")
    assert counters["stats"]["unique_graphs"] == 1, "compiled once, for every batch size"
