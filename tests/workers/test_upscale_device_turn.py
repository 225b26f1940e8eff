"""Two upscales at once, as the gpu worker's two job threads run them: real threads, the real
pipeline and device lock, a tiny real checkpoint on the CPU.

The network passes are timed by forward hooks on the shared network; decode and the end of
the PNG encoding are timed by wrapping them. Events make the interleaving deterministic: a hook
holds job A's first pass until job B has decoded and is waiting for the device, and A's encode
tail waits until B's pass has started, which can only happen if A's tail runs outside the lock.
Every wait has a timeout, so a wrong lock fails the test instead of hanging it.

Skips without torch/basicsr, except under CI=true (bin/_setup.sh dev installs them there).
"""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from tests.images import encode_png, pattern_image
from tests.upscales.builders import install, requires_upscaler, small_spec, write_checkpoint
from workers.upscale.pipeline import UpscaleCallbacks, UpscaleConfig

WAIT = 20.0  # seconds any one step may take before the test calls it a deadlock


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()


@pytest.fixture
def fast_poll(monkeypatch):
    from workers.upscale import engine

    monkeypatch.setattr(engine, "DEVICE_WAIT_POLL_S", 0.02)


@pytest.fixture
def compact(monkeypatch, tmp_path):
    return install(monkeypatch, small_spec("general-x4v3"), tmp_path)


class Passes:
    """Forward hooks on the shared network: (thread, start, end) of every pass, and a gate a
    test can hold a thread's first pass at."""

    def __init__(self, network) -> None:
        self.intervals: list[tuple[str, float, float]] = []
        self.started: dict[str, float] = {}
        self.hold_first: dict[str, tuple[threading.Event, list[bool]]] = {}
        self._first: dict[str, threading.Event] = {}
        self._guard = threading.Lock()
        self._handles = [
            network.register_forward_pre_hook(self._pre),
            network.register_forward_hook(self._post),
        ]

    def first(self, name: str) -> threading.Event:
        """Set when the thread called ``name`` starts its first pass."""
        with self._guard:
            return self._first.setdefault(name, threading.Event())

    def _pre(self, module, args) -> None:
        name = threading.current_thread().name
        self.started[name] = time.perf_counter()
        event = self.first(name)
        if not event.is_set():
            event.set()
            gate = self.hold_first.get(name)
            if gate is not None:
                gate[1].append(gate[0].wait(WAIT))

    def _post(self, module, args, output) -> None:
        name = threading.current_thread().name
        self.intervals.append((name, self.started[name], time.perf_counter()))

    def of(self, name: str) -> list[tuple[float, float]]:
        return [(a, b) for who, a, b in self.intervals if who == name]

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _in_thread(name: str, fn, *args, **kwargs):
    """Run fn in a thread of its own (named, as the hooks tell threads apart by name)."""
    result: dict[str, object] = {}

    def body() -> None:
        try:
            result["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised in the test thread by join()
            result["error"] = exc
        finally:
            result["ended"] = time.perf_counter()

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()

    def join():
        thread.join(WAIT * 3)
        assert not thread.is_alive(), f"{name} did not finish"
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        return result["value"], result["ended"]

    return join


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_two_jobs_take_turns_on_the_device_while_decode_and_encode_overlap_the_other_pass(
    monkeypatch, tmp_path, compact, fast_poll, device
):
    """On CUDA too (bin/gpu-check runs it with -k cuda): there the strips reach the encoder
    through pinned buffers and CUDA events while the other job's pass has the device."""
    import torch

    from workers.upscale import pipeline
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU (bin/gpu-check runs it on a lent GPU machine)")
    loaded = load_model(compact, tmp_path, device=device)
    passes = Passes(loaded.network)
    b_waiting = threading.Event()
    a_held: list[bool] = []
    passes.hold_first["job-a"] = (b_waiting, a_held)

    decodes: dict[str, tuple[float, float]] = {}
    real_decode = pipeline.decode_image

    def timed_decode(data):
        started = time.perf_counter()
        try:
            return real_decode(data)
        finally:
            decodes[threading.current_thread().name] = (started, time.perf_counter())

    monkeypatch.setattr(pipeline, "decode_image", timed_decode)

    tails: dict[str, tuple[float, float, bool]] = {}
    real_finish = pipeline.PngStreamWriter.finish

    def timed_finish(writer):
        name = threading.current_thread().name
        started = time.perf_counter()
        saw_b = True
        if name == "job-a":  # A's encode tail must be able to run while B has the device
            saw_b = passes.first("job-b").wait(WAIT)
        try:
            return real_finish(writer)
        finally:
            tails[name] = (started, time.perf_counter(), saw_b)

    monkeypatch.setattr(pipeline.PngStreamWriter, "finish", timed_finish)

    waits: list[float] = []

    def b_wait(seconds: float) -> bool:
        waits.append(seconds)
        b_waiting.set()
        return True

    options = TileOptions(tile=16, overlap=4, batch=1)
    config = UpscaleConfig(models_dir=tmp_path, tile_options=options, device=device)
    common = {"model": compact.name, "config": config}
    source_a, source_b = pattern_image((48, 40)), pattern_image((40, 32))
    try:
        join_a = _in_thread("job-a", pipeline.upscale_to_png, encode_png(source_a), **common)
        # B starts once A is on the device, as the worker's second thread would take a job.
        assert passes.first("job-a").wait(WAIT), "job A never reached the network"
        join_b = _in_thread(
            "job-b",
            pipeline.upscale_to_png,
            encode_png(source_b),
            callbacks=UpscaleCallbacks(device_wait=b_wait),
            **common,
        )
        (a, a_ended), (b, b_ended) = join_a(), join_b()
    finally:
        passes.remove()

    # Both masters are whole and right.
    for encoded, source in ((a, source_a), (b, source_b)):
        with Image.open(io.BytesIO(encoded.png)) as im:
            assert im.size == (source.width * 4, source.height * 4)
            assert np.asarray(im).std() > 0
    a_passes, b_passes = passes.of("job-a"), passes.of("job-b")
    assert len(a_passes) == 9 and len(b_passes) == 6  # one pass per 16-pixel tile

    # The network passes never overlap: every pass of A ends before any pass of B starts.
    assert max(end for _, end in a_passes) <= min(start for start, _ in b_passes)
    for _, start, end in passes.intervals:
        others = [iv for iv in passes.intervals if iv[1:] != (start, end)]
        assert all(end <= s or e <= start for _, s, e in others)

    # B decoded while A's first pass had the device, then waited, and said so.
    assert a_held == [True], "job B never waited for the device while A held it"
    b_decode = decodes["job-b"]
    assert a_passes[0][0] < b_decode[0] and b_decode[1] < a_passes[0][1]
    assert waits and waits == sorted(waits)
    assert b.result.timings["gpu_wait"] > 0 and a.result.timings["gpu_wait"] < 1.0

    # A's encode tail ran while B had the device: it waited for B's first pass and saw it.
    a_tail_start, a_tail_end, saw_b = tails["job-a"]
    assert saw_b, "job A's encode tail could not finish until B was on the device"
    # (B may reach the device before A's thread even calls finish(): the lock is released
    # first, so only the end of A's tail is ordered against B's first pass.)
    assert b_passes[0][0] < a_tail_end <= a_ended
    assert a_tail_start < a_tail_end
    assert a_ended < b_ended


def test_two_threads_asking_for_one_model_at_once_load_it_once(monkeypatch, tmp_path):
    from workers.upscale import weights

    spec = write_checkpoint(small_spec("general-x4v3"), tmp_path)
    weights.clear_cache()
    builds: list[str] = []
    real = weights.network_from_state

    def slow_build(*args, **kwargs):
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # a real load takes seconds; the second thread arrives meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(weights, "network_from_state", slow_build)
    barrier = threading.Barrier(2)

    def ask(_: int):
        barrier.wait(WAIT)
        return weights.load_model(spec, tmp_path)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(ask, range(2))
    assert len(builds) == 1
    assert first is second
    assert weights.load_model(spec, tmp_path) is first


def test_a_loaded_model_is_not_held_up_by_another_models_load(monkeypatch, tmp_path):
    from workers.upscale import weights

    ready = write_checkpoint(small_spec("general-x4v3"), tmp_path)
    other = write_checkpoint(small_spec("x2plus"), tmp_path)
    weights.clear_cache()
    loaded = weights.load_model(ready, tmp_path)
    release, building = threading.Event(), threading.Event()
    real = weights.network_from_state

    def stuck_build(*args, **kwargs):
        building.set()
        release.wait(WAIT)
        return real(*args, **kwargs)

    monkeypatch.setattr(weights, "network_from_state", stuck_build)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(weights.load_model, other, tmp_path)
        assert building.wait(WAIT)
        started = time.perf_counter()
        assert weights.load_model(ready, tmp_path) is loaded
        assert time.perf_counter() - started < 1.0
        assert not slow.done()
        release.set()
        assert slow.result(WAIT).spec.name == "x2plus"


def test_a_job_waiting_for_the_device_says_so_and_can_be_cancelled(
    monkeypatch, tmp_path, compact, fast_poll
):
    from workers.upscale import upscale_image
    from workers.upscale.engine import device_turn
    from workers.upscale.engine_types import UpscaleCancelled
    from workers.upscale.weights import load_model

    loaded = load_model(compact, tmp_path)
    passes = Passes(loaded.network)
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return len(waits) < 4  # the job is cancelled while it waits

    try:
        with device_turn(loaded.device):  # another job's pass has the device
            join = _in_thread(
                "job-b",
                upscale_image,
                encode_png(pattern_image((24, 16))),
                model=compact.name,
                config=UpscaleConfig(models_dir=tmp_path),
                callbacks=UpscaleCallbacks(device_wait=wait),
            )
            with pytest.raises(UpscaleCancelled):
                join()
    finally:
        passes.remove()
    assert len(waits) == 4 and waits == sorted(waits) and waits[-1] > 0
    assert passes.intervals == [], "a cancelled job must not run a network pass"
    # The device is free again for the next job.
    result = upscale_image(
        pattern_image((12, 8)), model=compact.name, config=UpscaleConfig(models_dir=tmp_path)
    )
    assert result.timings["gpu_wait"] < 1.0


def test_a_job_waiting_past_the_limit_fails_with_a_clear_message(tmp_path, compact, fast_poll):
    from workers.upscale import upscale_to_png
    from workers.upscale.engine import device_turn
    from workers.upscale.engine_types import DeviceBusy
    from workers.upscale.weights import load_model

    with device_turn(load_model(compact, tmp_path).device):
        join = _in_thread(
            "job-b",
            upscale_to_png,
            encode_png(pattern_image((24, 16))),
            model=compact.name,
            config=UpscaleConfig(models_dir=tmp_path, device_wait_limit=0.2),
        )
        with pytest.raises(DeviceBusy, match=r"stayed busy with another job .* may be stuck"):
            join()


def test_out_of_memory_retries_inside_the_turn_and_a_failed_pass_frees_the_device(
    tmp_path, compact, fast_poll
):
    import torch

    from workers.upscale import upscale_image
    from workers.upscale.engine import device_lock
    from workers.upscale.engine_types import TileOptions
    from workers.upscale.weights import load_model

    def small_memory(shape):
        if shape[0] > 1 or shape[2] > 24:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    def no_memory(shape):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    source = pattern_image((40, 30))
    shrinking = TileOptions(tile=32, overlap=4, batch=4, min_tile=8, before_forward=small_memory)
    failing = TileOptions(tile=16, overlap=4, batch=1, min_tile=8, before_forward=no_memory)

    def config(options):
        return UpscaleConfig(models_dir=tmp_path, tile_options=options)

    join_a = _in_thread(
        "job-a", upscale_image, source, model=compact.name, config=config(shrinking)
    )
    join_b = _in_thread("job-b", upscale_image, source, model=compact.name, config=config(failing))
    (a, _) = join_a()
    assert a.stats["oom_recoveries"] >= 3 and a.stats["tile"] == 16
    with pytest.raises(torch.OutOfMemoryError, match="even with 8-pixel tiles"):
        join_b()
    lock = device_lock(load_model(compact, tmp_path).device)
    assert lock.acquire(blocking=False), "a failed pass must give the device back"
    lock.release()
