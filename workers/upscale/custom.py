"""Custom ESRGAN-family checkpoints: community models a team already trusts (4x-UltraSharp,
NMKD Siax, AnimeSharp, Real-ESRGAN variants, SwinIR), imported by staff under a name of their
choosing and offered in the upscale menus beside the pinned Real-ESRGAN models.

spandrel (the loader ComfyUI and chaiNNer use) detects the architecture, scale and channels from
the state dict; the pinned models stay on basicsr. Nothing is ever unpickled: ``.pth`` files are
read with ``torch.load(weights_only=True)``, ``.safetensors`` with safetensors. What is imported
sits in ``UPSCALE_MODELS_DIR/custom/``: ``NAME.pth`` or ``NAME.safetensors`` (mode 0644, so a
worker running as another user reads it) and ``NAME.json``, the record (architecture, scale,
SHA-256, licence note, description). A worker loads a custom model only when the file still has
the recorded SHA-256. Framework-free: nothing here imports Django.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.upscale.registry import CLASSICAL, MODELS, ModelSpec, file_sha256

if TYPE_CHECKING:
    import torch
    from torch import nn

CUSTOM_DIR = "custom"
SPANDREL = "spandrel:"  # ModelSpec.arch prefix of a custom model
SUFFIXES = (".pth", ".safetensors")
# spandrel architecture ids Draftroom offers, each with a test that builds a small checkpoint
# (tests/workers/test_upscale_custom.py): the ESRGAN family in both key layouts (old ESRGAN
# "model.N" and basicsr "conv_first"/"body"), Real-ESRGAN's compact SRVGGNet, and SwinIR.
SUPPORTED = {
    "ESRGAN": "ESRGAN / Real-ESRGAN (RRDBNet)",
    "Compact": "Real-ESRGAN compact (SRVGGNetCompact)",
    "SwinIR": "SwinIR",
}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class CustomModelError(ValueError):
    """A file that cannot be imported or used as a custom model; the message is for people."""


@dataclass(frozen=True)
class CustomModel:
    name: str
    architecture: str  # spandrel's id, one of SUPPORTED
    scale: int
    input_channels: int
    output_channels: int
    multiple_of: int
    supports_half: bool
    supports_bfloat16: bool
    sha256: str
    size_bytes: int
    filename: str  # relative to the models folder
    source_name: str  # the file's name as it was imported
    licence: str = ""
    description: str = ""
    imported_at: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} (custom {self.architecture} ×{self.scale})"

    def spec(self) -> ModelSpec:
        """What the engine needs: ``arch`` names spandrel, ``sha256`` pins the file."""
        return ModelSpec(
            name=self.name,
            label=self.label,
            arch=SPANDREL + self.architecture,
            arch_kwargs={
                "supports_half": self.supports_half,
                "supports_bfloat16": self.supports_bfloat16,
            },
            scale=self.scale,
            filename=self.filename,
            url="",
            sha256=self.sha256,
            size_bytes=self.size_bytes,
            params_key="",
            multiple_of=self.multiple_of,
        )


def is_custom(spec: ModelSpec) -> bool:
    return spec.arch.startswith(SPANDREL)


def spandrel_available() -> bool:
    try:
        import spandrel  # noqa: F401
    except ImportError:
        return False
    return True


def check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise CustomModelError(
            f"“{name}” cannot name a model: use up to 40 lower-case letters, digits and hyphens, "
            "starting with a letter or digit (e.g. 4x-ultrasharp)."
        )
    if name in MODELS or name == CLASSICAL:
        raise CustomModelError(
            f"“{name}” is a built-in model's name; choose another name for the custom model."
        )


def read_state_dict(path: Path | str, *, shown_name: str | None = None) -> dict[str, Any]:
    """The checkpoint's tensors, without unpickling anything: safetensors, or ``torch.load``
    with ``weights_only=True`` (refuses pickled code). Wrappers such as ``params_ema`` or
    ``state_dict`` and a ``module.`` prefix are removed (spandrel's canonical form)."""
    import torch
    from spandrel import canonicalize_state_dict

    path = Path(path)
    shown = shown_name or path.name
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickled code, a truncated file, not a checkpoint at all
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CustomModelError(f"{shown} is not a readable weights file: {first}") from exc
    if not isinstance(state, dict):
        raise CustomModelError(f"{shown} holds no state dict (a {type(state).__name__}).")
    state = canonicalize_state_dict(state)
    if not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CustomModelError(f"{shown} holds no tensors of a network's state dict.")
    return state


def describe(state: dict[str, Any], *, shown_name: str) -> Any:
    """spandrel's descriptor of the state dict, or a message saying why it is not offered."""
    from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

    supported = ", ".join(SUPPORTED.values())
    try:
        descriptor = ModelLoader().load_from_state_dict(state)
    except UnsupportedModelError:
        raise CustomModelError(
            f"{shown_name} is not a model architecture Draftroom can run; custom models must be "
            f"super-resolution networks of the ESRGAN family ({supported})."
        ) from None
    except Exception as exc:
        raise CustomModelError(f"{shown_name} could not be read as a network: {exc}") from exc
    arch = descriptor.architecture.id
    if not isinstance(descriptor, ImageModelDescriptor) or descriptor.purpose != "SR":
        purpose = getattr(descriptor, "purpose", "image")
        raise CustomModelError(
            f"{shown_name} is a {arch} {purpose} model, not a super-resolution one; custom "
            f"models must upscale ({supported})."
        )
    if arch not in SUPPORTED:
        raise CustomModelError(
            f"{shown_name} is a {arch} super-resolution model; Draftroom offers {supported}."
        )
    if descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise CustomModelError(
            f"{shown_name} takes {descriptor.input_channels} and gives "
            f"{descriptor.output_channels} channels; the upscaler needs an RGB network (3 and 3)."
        )
    return descriptor


def import_custom(
    models_dir: Path | str,
    *,
    name: str,
    source: Path | str,
    licence: str = "",
    description: str = "",
) -> CustomModel:
    """Check ``source`` and install it as the custom model ``name``. The file is copied into
    the models folder under a temporary name, checked there, made readable (0644) and moved
    into place whole; then its record is written. Messages name ``source``, never the copy."""
    check_name(name)
    source = Path(source)
    if not source.is_file():
        raise CustomModelError(f"No such file: {source}")
    suffix = source.suffix.lower()
    if suffix not in SUFFIXES:
        raise CustomModelError(
            f"{source.name}: custom models are .pth or .safetensors files (not {suffix or 'no'} "
            "extension); .ckpt and TorchScript files are not read."
        )
    folder = Path(models_dir) / CUSTOM_DIR
    folder.mkdir(parents=True, exist_ok=True)
    # Ends in the real suffix: the reader picks safetensors or torch.load by it.
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".part" + suffix)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as fh:
            shutil.copyfileobj(fh, out, 1 << 20)
        state = read_state_dict(temp, shown_name=source.name)
        descriptor = describe(state, shown_name=source.name)
        digest = file_sha256(temp)
        size_requirements = descriptor.size_requirements
        target = folder / f"{name}{suffix}"
        model = CustomModel(
            name=name,
            architecture=descriptor.architecture.id,
            scale=int(descriptor.scale),
            input_channels=int(descriptor.input_channels),
            output_channels=int(descriptor.output_channels),
            multiple_of=max(1, int(size_requirements.multiple_of)),
            supports_half=bool(descriptor.supports_half),
            supports_bfloat16=bool(descriptor.supports_bfloat16),
            sha256=digest,
            size_bytes=temp.stat().st_size,
            filename=f"{CUSTOM_DIR}/{target.name}",
            source_name=source.name,
            licence=licence.strip(),
            description=description.strip(),
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        # mkstemp makes the copy 0600; a worker running as another user must read it.
        temp.chmod(0o644)
        for other in SUFFIXES:  # a re-import in the other format replaces the old file
            if other != suffix:
                (folder / f"{name}{other}").unlink(missing_ok=True)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _write_record(folder / f"{name}.json", model)
    return model


def _write_record(path: Path, model: CustomModel) -> None:
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".part")
    with os.fdopen(handle, "w") as fh:
        json.dump(asdict(model), fh, indent=2)
        fh.write("\n")
    os.chmod(temp_name, 0o644)
    os.replace(temp_name, path)


def custom_models(models_dir: Path | str | None) -> list[CustomModel]:
    """Every imported custom model whose record is readable, by name."""
    if models_dir is None:
        return []
    folder = Path(models_dir) / CUSTOM_DIR
    if not folder.is_dir():
        return []
    found = []
    for record in sorted(folder.glob("*.json")):
        model = _read_record(record)
        if model is not None:
            found.append(model)
    return found


def get_custom(models_dir: Path | str | None, name: str) -> CustomModel | None:
    if models_dir is None or not NAME_PATTERN.match(name):
        return None
    return _read_record(Path(models_dir) / CUSTOM_DIR / f"{name}.json")


def _read_record(path: Path) -> CustomModel | None:
    try:
        data = json.loads(path.read_text())
        return CustomModel(**data)
    except (OSError, ValueError, TypeError):
        return None


def build_custom_network(path: Path | str) -> nn.Module:
    """The network of a custom model's file (its checksum already checked by the caller)."""
    state = read_state_dict(path)
    descriptor = describe(state, shown_name=Path(path).name)
    network: nn.Module = descriptor.model
    return network


def custom_dtype(spec: ModelSpec, dtype: torch.dtype) -> torch.dtype:
    """``dtype``, or fp32 where the architecture does not support it (SwinIR in fp16)."""
    import torch

    if dtype == torch.float16 and not spec.arch_kwargs.get("supports_half", True):
        return torch.float32
    if dtype == torch.bfloat16 and not spec.arch_kwargs.get("supports_bfloat16", True):
        return torch.float32
    return dtype
