"""GPU upscaling engine (Real-ESRGAN through basicsr) with a classical fallback.

Framework-free: nothing here imports Django. Importing this package does not import torch;
the network code loads on first use. Public API:

* ``upscale_image(source, model=, scale=|size=, config=UpscaleConfig(...))`` -> ``UpscaleResult``
  in memory; ``UpscaleCallbacks`` for progress, device waits and compiling
* ``upscale_to_png(data, ...)`` -> ``EncodedUpscale`` (PNG bytes compressed during inference)
* ``MODELS`` / ``get_model`` / ``installed_models``: the registry
"""

from workers.upscale.pipeline import (
    EncodedUpscale,
    ModelChoice,
    UpscaleCallbacks,
    UpscaleConfig,
    UpscaleError,
    UpscaleResult,
    choose_model,
    target_size,
    upscale_image,
    upscale_to_png,
)
from workers.upscale.registry import CLASSICAL, MODELS, ModelSpec, get_model, installed_models

__all__ = [
    "CLASSICAL",
    "MODELS",
    "EncodedUpscale",
    "ModelChoice",
    "ModelSpec",
    "UpscaleCallbacks",
    "UpscaleConfig",
    "UpscaleError",
    "UpscaleResult",
    "choose_model",
    "get_model",
    "installed_models",
    "target_size",
    "upscale_image",
    "upscale_to_png",
]
