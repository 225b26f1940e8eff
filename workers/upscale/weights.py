"""Reading, checking and caching network weights.

A weights file is trusted only after two checks: its SHA-256 equals the registry's (or
UPSCALE_PINS', or for a custom model the one recorded at import), and its state dict has exactly
the keys and tensor shapes of the architecture the registry names (for a custom model: one that
spandrel recognises as the recorded architecture). Files
are read with ``torch.load(weights_only=True)``, which refuses pickled code. A worker process
keeps each loaded network in a module-level cache, so a model is read once per process, also
when two job threads ask for it at the same moment.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.upscale.archs import build_network
from workers.upscale.custom import build_custom_network, custom_dtype, is_custom
from workers.upscale.registry import ModelSpec, file_sha256, weights_path

if TYPE_CHECKING:
    import torch
    from torch import nn

logger = logging.getLogger(__name__)


class WeightsError(ValueError):
    """The weights file is missing, altered or does not fit the architecture."""


# torch.compile modes a worker may ask for ("" = run the network eagerly).
COMPILE_MODES = ("", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    network: nn.Module  # what the engine calls: the compiled module when compile_mode is set
    sha256: str
    device: torch.device
    dtype: torch.dtype
    channels_last: bool
    compile_mode: str = ""
    eager: nn.Module | None = None  # the plain network behind a compiled one
    # Per process, shared by the job threads: "tiling" pins a compiled network's one tile
    # shape; "compile_failed" says why it runs eagerly after all.
    runtime: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def compiled(self) -> bool:
        return bool(self.compile_mode) and "compile_failed" not in self.runtime

    @property
    def plain(self) -> nn.Module:
        return self.eager if self.eager is not None else self.network


def read_state_dict(
    path: Path | str, spec: ModelSpec, *, shown_name: str | None = None
) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors, checked against the architecture's keys and shapes.
    ``shown_name`` names the file in messages (the user's file, not a temporary copy)."""
    import torch

    name = shown_name or Path(path).name
    try:
        checkpoint: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickled code, a truncated file, not a checkpoint at all
        raise WeightsError(f"{name} is not a readable weights file: {exc}") from exc
    state = checkpoint
    if isinstance(checkpoint, dict):
        for key in (spec.params_key, "params_ema", "params"):
            if isinstance(checkpoint.get(key), dict):
                state = checkpoint[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{name} has no state dict under {spec.params_key!r} for {spec.label}.")
    expected = build_network(spec).state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise WeightsError(
            f"{name} does not match {spec.arch} for {spec.label}: "
            f"{len(missing)} missing keys (e.g. {missing[:2]}), {len(extra)} unexpected "
            f"(e.g. {extra[:2]})."
        )
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise WeightsError(
                f"{name}: {key} has shape {tuple(state[key].shape)}, "
                f"{spec.label} needs {tuple(tensor.shape)}."
            )
    return state


def verify_weights(path: Path | str, spec: ModelSpec, *, shown_name: str | None = None) -> str:
    """Check checksum and shapes of a weights file; return its SHA-256. Messages name
    ``shown_name`` (the user's file) when given, and say what would make the file usable."""
    path = Path(path)
    name = shown_name or path.name
    if not path.is_file():
        raise WeightsError(f"No weights file for {spec.label} at {path}.")
    digest = file_sha256(path)
    if digest != spec.sha256:
        if is_custom(spec):
            raise WeightsError(
                f"{name} has SHA-256 {digest}, but the custom model {spec.name} was imported "
                f"with {spec.sha256}: the file changed after import. Import it again with "
                f"`manage.py upscale_models import-custom {spec.name} FILE`."
            )
        raise WeightsError(
            f"{name} has SHA-256 {digest}, but {spec.label} is pinned to {spec.sha256}. "
            f"If it is another checkpoint of the same architecture that you trust, set "
            f"UPSCALE_PINS={spec.name}={digest} (on the web and gpu worker) and import it again; "
            f"or import it as a custom model under a name of your own: "
            f"`manage.py upscale_models import-custom NAME {name}`."
        )
    if is_custom(spec):
        return digest
    read_state_dict(path, spec, shown_name=name)
    return digest


_CACHE: dict[tuple[Any, ...], LoadedModel] = {}
_LOCK = threading.Lock()  # guards _CACHE and _LOADING; never held while a file is read
# One lock per model file version being loaded: a second thread asking for the same model waits
# for the first one's load instead of reading the file again, while a thread asking for a model
# already loaded (or another model) is not held up by a load that takes seconds.
_LOADING: dict[tuple[Any, ...], threading.Lock] = {}


def pick_device(device: str | None = None) -> torch.device:
    import torch

    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(device: torch.device, precision: str = "auto") -> torch.dtype:
    """fp16 on CUDA by default (what Real-ESRGAN itself uses), fp32 on the CPU."""
    import torch

    if device.type != "cuda":
        return torch.float32
    return {
        "auto": torch.float16,
        "fp16": torch.float16,
        "bf16": torch.bfloat16,
        "fp32": torch.float32,
    }[precision]


def load_model(
    spec: ModelSpec,
    models_dir: Path | str,
    *,
    device: str | None = None,
    precision: str = "auto",
    compile_mode: str = "",
) -> LoadedModel:
    """The network for ``spec`` on ``device``, loaded once per process and file version.
    ``compile_mode`` (one of :data:`COMPILE_MODES`) wraps it in ``torch.compile``; the
    compilation itself happens at the first pass (``engine.prepare``)."""
    if compile_mode not in COMPILE_MODES:
        raise WeightsError(
            f"Unknown torch.compile mode {compile_mode!r}; use one of "
            f"{', '.join(m or '(empty)' for m in COMPILE_MODES)}."
        )
    path = weights_path(models_dir, spec)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise WeightsError(f"{spec.label} is not installed ({path.name} is missing).") from None
    dev = pick_device(device)
    dtype = pick_dtype(dev, precision)
    if is_custom(spec):
        dtype = custom_dtype(spec, dtype)
    key = (
        spec.name, str(path.resolve()), stat.st_mtime_ns, stat.st_size, str(dev), str(dtype),
        compile_mode,
    )  # fmt: skip
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        loading = _LOADING.setdefault(key, threading.Lock())
    with loading:
        with _LOCK:
            cached = _CACHE.get(key)  # loaded by the thread this one waited for
        if cached is not None:
            return cached
        try:
            digest = verify_weights(path, spec)
            if is_custom(spec):
                loaded = _on_device(spec, build_custom_network(path), dev, dtype, digest)
            else:
                state = read_state_dict(path, spec)
                loaded = network_from_state(spec, state, dev, dtype, digest)
            if compile_mode:
                loaded = compile_network(loaded, compile_mode)
        except BaseException:
            with _LOCK:
                _forget_loading(key, loading)
            raise
        with _LOCK:
            # Older versions of the same model on this device are dropped to free their memory.
            for old in [k for k in _CACHE if k[0] == spec.name and k[4:] == key[4:]]:
                del _CACHE[old]
            _CACHE[key] = loaded
            # In the same critical section as the cache fill, so no thread finds neither.
            _forget_loading(key, loading)
    logger.info("loaded %s (%s) on %s as %s", spec.label, digest[:12], dev, dtype)
    return loaded


def compile_network(loaded: LoadedModel, mode: str) -> LoadedModel:
    """``loaded`` with its network wrapped in ``torch.compile``: static shapes except the
    batch dimension, which the engine marks dynamic (it feeds a compiled network one tile
    shape). Nothing compiles until the first call."""
    import dataclasses

    import torch

    compiled = torch.compile(
        loaded.network, mode=None if mode == "default" else mode, dynamic=False
    )
    return dataclasses.replace(
        loaded,
        network=compiled,  # type: ignore[arg-type]  # an OptimizedModule is a Module
        compile_mode=mode,
        eager=loaded.network,
        runtime={},
    )


def _forget_loading(key: tuple[Any, ...], loading: threading.Lock) -> None:
    """Called with _LOCK held. Drops only this load's own entry: after a failed load, the
    threads that waited on its lock load in turn, and a newcomer may have registered another."""
    if _LOADING.get(key) is loading:
        del _LOADING[key]


def network_from_state(
    spec: ModelSpec,
    state: dict[str, torch.Tensor],
    device: torch.device,
    dtype: torch.dtype,
    digest: str,
) -> LoadedModel:
    network = build_network(spec)
    network.load_state_dict(state, strict=True)
    return _on_device(spec, network, device, dtype, digest)


def _on_device(
    spec: ModelSpec, network: nn.Module, device: torch.device, dtype: torch.dtype, digest: str
) -> LoadedModel:
    import torch

    network.eval().requires_grad_(False)
    channels_last = device.type == "cuda"
    if device.type == "cuda":
        # Tiles share one shape (a batch of full tiles), so cuDNN's per-shape search for the
        # fastest convolution algorithms pays for itself after the first pass.
        torch.backends.cudnn.benchmark = True
    network = network.to(device=device, dtype=dtype)
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    return LoadedModel(spec, network, digest, device, dtype, channels_last)


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
