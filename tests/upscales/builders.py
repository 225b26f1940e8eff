"""Tiny real checkpoints for the upscaler tests: real basicsr architectures, random weights,
saved in the official release layout (``{"params_ema": state}`` or ``{"params": state}``).

Speed does not depend on weight values, and correctness checks compare the engine against the
same network run directly, so random weights are enough. ``small`` keeps the architecture but
uses fewer blocks so CPU tests stay fast; the registry entry is re-pinned to the file's SHA-256
(as an operator would after verifying a real release file).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the engine tests import this module without Django (bin/gpu-check)
    from apps.drafts.models import Batch, Draft


def requires_upscaler() -> None:
    """Skip when torch/basicsr are missing, except in CI, where they must be installed."""
    import os

    try:
        import torch  # noqa: F401

        from workers.upscale.archs import basicsr_available

        ok = basicsr_available()
        reason = "basicsr is not importable"
    except ImportError as exc:
        ok, reason = False, str(exc)
    if not ok:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must install the upscaler dependencies (bin/_setup.sh dev): {reason}")
        pytest.skip(f"upscaler dependencies missing: {reason}")


def small_spec(name: str):
    from workers.upscale.registry import MODELS

    spec = MODELS[name]
    kwargs = dict(spec.arch_kwargs)
    if "num_block" in kwargs:
        kwargs["num_block"] = 1
        kwargs["num_feat"] = 16
        kwargs["num_grow_ch"] = 8
    else:
        kwargs["num_conv"] = 2
        kwargs["num_feat"] = 16
    return dataclasses.replace(spec, arch_kwargs=kwargs)


def write_checkpoint(spec, directory: Path, *, seed: int = 0, strength: float = 1.0):
    """Save a random-weight checkpoint as ``directory/spec.filename``; return the spec pinned
    to its SHA-256 and size. ``strength`` scales the weights up from basicsr's small init, so
    the network really mixes neighbouring pixels (a harder test for tiling)."""
    import torch

    from workers.upscale.archs import build_network
    from workers.upscale.registry import file_sha256

    torch.manual_seed(seed)
    network = build_network(spec)
    if strength != 1.0:
        with torch.no_grad():
            for name, param in network.named_parameters():
                if name.endswith("weight") and param.ndim == 4:
                    param.mul_(strength)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spec.filename
    torch.save({spec.params_key: network.state_dict()}, path)
    return dataclasses.replace(spec, sha256=file_sha256(path), size_bytes=path.stat().st_size)


def install(monkeypatch, spec, directory: Path, **kw):
    """Write a checkpoint and pin the registry entry to it for this test."""
    from workers.upscale import registry
    from workers.upscale.weights import clear_cache

    pinned = write_checkpoint(spec, directory, **kw)
    monkeypatch.setitem(registry.MODELS, spec.name, pinned)
    clear_cache()
    return pinned


def identity_compact(monkeypatch, tmp_path, *, residual: float = 0.0):
    """SRVGGNetCompact adds the nearest-upsampled input to its body's output; with the last
    convolution zeroed (or tiny) the network is (almost) exactly a nearest-neighbour ×4."""
    import torch

    from workers.upscale.archs import build_network
    from workers.upscale.registry import file_sha256

    spec = small_spec("general-x4v3")
    tmp_path.mkdir(parents=True, exist_ok=True)
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


def kept_draft(batch: Batch, **kw) -> Draft:
    """A real draft (through intake), marked kept so it may be upscaled."""
    from apps.drafts.models import Decision, Draft
    from tests.factories import make_draft

    draft = make_draft(batch, **kw)
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    return draft
