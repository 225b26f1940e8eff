"""The one place that imports basicsr.

basicsr 1.4.2 (the last release) does ``from torchvision.transforms.functional_tensor import
rgb_to_grayscale`` in ``basicsr/data/degradations.py``, which ``import basicsr`` pulls in.
torchvision 0.17 renamed that private module to ``_functional_tensor`` and later releases dropped
the old name, so importing basicsr fails with current torchvision. We register the old name as
an alias of the new module before the import; nothing else in Draftroom imports basicsr.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from workers.upscale.registry import ModelSpec

_ALIAS = "torchvision.transforms.functional_tensor"


class BasicsrMissing(ImportError):
    pass


def install_functional_tensor_alias() -> ModuleType:
    """Make ``torchvision.transforms.functional_tensor`` importable; return the module."""
    existing = sys.modules.get(_ALIAS)
    if existing is not None:
        return existing
    try:
        return importlib.import_module(_ALIAS)  # an old torchvision still has it
    except ImportError:
        pass
    module = importlib.import_module("torchvision.transforms._functional_tensor")
    sys.modules[_ALIAS] = module
    import torchvision.transforms as transforms

    transforms.functional_tensor = module
    return module


def _architectures() -> dict[str, Any]:
    try:
        install_functional_tensor_alias()
        with warnings.catch_warnings():
            # basicsr 1.4.2 imports deprecated scipy and torchvision names at import time.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            from basicsr.archs.rrdbnet_arch import RRDBNet
            from basicsr.archs.srvgg_arch import SRVGGNetCompact
    except ImportError as exc:
        raise BasicsrMissing(
            f"basicsr (with torch and torchvision) is needed for neural upscaling: {exc}"
        ) from exc
    return {"RRDBNet": RRDBNet, "SRVGGNetCompact": SRVGGNetCompact}


def basicsr_available() -> bool:
    try:
        _architectures()
    except BasicsrMissing:
        return False
    return True


def build_network(spec: ModelSpec) -> nn.Module:
    """A network with the spec's architecture and random weights."""
    arch = _architectures()[spec.arch]
    network: nn.Module = arch(**spec.arch_kwargs)
    return network
