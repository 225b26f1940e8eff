"""The upscaling models Draftroom knows: what each one is and where its weights come from.

Importing this module is cheap (no torch), so the web process can list models and name files.
The SHA-256 values are the published release assets of xinntao/Real-ESRGAN; a weights file is
only used when its checksum matches, so a truncated download or a swapped file never runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLASSICAL = "classical"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    arch: str  # "RRDBNet" | "SRVGGNetCompact" (basicsr architectures)
    arch_kwargs: dict[str, Any] = field(hash=False)
    scale: int
    filename: str
    url: str
    sha256: str
    size_bytes: int
    params_key: str  # the state-dict key inside the checkpoint ("params_ema" or "params")
    # Input sides must be a multiple of this (pixel-unshuffle networks: ×2 RRDBNet needs 2).
    multiple_of: int = 1

    @property
    def is_neural(self) -> bool:
        return True


@dataclass(frozen=True)
class ClassicalSpec:
    """Lanczos resampling plus mild unsharp masking: no weights, no torch, always available."""

    name: str = CLASSICAL
    label: str = "Classical (Lanczos + sharpen, not neural)"
    scale: int = 1

    @property
    def is_neural(self) -> bool:
        return False


_RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="x4plus",
            label="Real-ESRGAN x4plus",
            arch="RRDBNet",
            arch_kwargs={
                "num_in_ch": 3,
                "num_out_ch": 3,
                "num_feat": 64,
                "num_block": 23,
                "num_grow_ch": 32,
                "scale": 4,
            },
            scale=4,
            filename="RealESRGAN_x4plus.pth",
            url=f"{_RELEASES}/v0.1.0/RealESRGAN_x4plus.pth",
            sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
            size_bytes=67_040_989,
            params_key="params_ema",
        ),
        ModelSpec(
            name="x2plus",
            label="Real-ESRGAN x2plus",
            arch="RRDBNet",
            arch_kwargs={
                "num_in_ch": 3,
                "num_out_ch": 3,
                "num_feat": 64,
                "num_block": 23,
                "num_grow_ch": 32,
                "scale": 2,
            },
            scale=2,
            filename="RealESRGAN_x2plus.pth",
            url=f"{_RELEASES}/v0.2.1/RealESRGAN_x2plus.pth",
            sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
            size_bytes=67_061_725,
            params_key="params_ema",
            multiple_of=2,
        ),
        ModelSpec(
            name="general-x4v3",
            label="Real-ESRGAN general x4v3 (compact)",
            arch="SRVGGNetCompact",
            arch_kwargs={
                "num_in_ch": 3,
                "num_out_ch": 3,
                "num_feat": 64,
                "num_conv": 32,
                "upscale": 4,
                "act_type": "prelu",
            },
            scale=4,
            filename="realesr-general-x4v3.pth",
            url=f"{_RELEASES}/v0.2.5.0/realesr-general-x4v3.pth",
            sha256="8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
            size_bytes=4_885_111,
            params_key="params",
        ),
    )
}

CLASSICAL_SPEC = ClassicalSpec()


class UnknownModel(KeyError):
    pass


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise UnknownModel(f"Unknown upscaling model {name!r}; known models: {known}.") from None


def weights_path(models_dir: Path | str, spec: ModelSpec) -> Path:
    return Path(models_dir) / spec.filename


def installed_models(models_dir: Path | str) -> list[ModelSpec]:
    """Models whose weights file is present (its checksum is checked when it is loaded)."""
    return [spec for spec in MODELS.values() if weights_path(models_dir, spec).is_file()]


def file_sha256(path: Path | str, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
