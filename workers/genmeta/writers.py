"""The generator's own input, written back from a record: an Automatic1111 ``parameters`` text
and a ComfyUI API-format graph, so the next batch starts from the same prompt and seed.

Framework-free. Both read a :class:`Carried` (what a record carries into the next batch); the
parameters may come from either generator, so each writer looks for its own key and the other
generator's spelling of it. The A1111 text reads back through :func:`workers.genmeta.a1111.
parse_a1111` to the same prompt, negative prompt, seed and model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# (A1111 key, ComfyUI key) of each setting both generators write.
_SETTINGS = (
    ("Steps", "steps"),
    ("Sampler", "sampler_name"),
    ("CFG scale", "cfg"),
    ("Schedule type", "scheduler"),
    ("Denoising strength", "denoise"),
)
_DEFAULTS = {
    "steps": 20,
    "sampler_name": "euler",
    "cfg": 7.0,
    "scheduler": "normal",
    "denoise": 1.0,
}


@dataclass(frozen=True)
class Carried:
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    model: str = ""
    width: int | None = None
    height: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Carried:
        seed = data.get("seed")
        return cls(
            prompt=str(data.get("prompt") or ""),
            negative_prompt=str(data.get("negative_prompt") or ""),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            model=str(data.get("model") or ""),
            width=_int(data.get("width")),
            height=_int(data.get("height")),
            parameters=dict(data.get("parameters") or {}),
        )

    def setting(self, a1111_key: str, comfy_key: str) -> Any:
        value = self.parameters.get(a1111_key)
        return value if value is not None else self.parameters.get(comfy_key)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def a1111_parameters(carried: Carried) -> str:
    """The text A1111 writes into a PNG and reads back through "PNG Info"."""
    lines = [carried.prompt]
    if carried.negative_prompt:
        lines.append(f"Negative prompt: {carried.negative_prompt}")
    pairs: list[tuple[str, Any]] = []
    for a1111_key, comfy_key in _SETTINGS:
        value = carried.setting(a1111_key, comfy_key)
        if value is not None:
            pairs.append((a1111_key, value))
    pairs.append(("Steps", carried.setting("Steps", "steps") or _DEFAULTS["steps"]))
    if carried.seed is not None:
        pairs.append(("Seed", carried.seed))
    if carried.width and carried.height:
        pairs.append(("Size", f"{carried.width}x{carried.height}"))
    if carried.model:
        pairs.append(("Model", carried.model))
    seen: set[str] = set()
    settings = []
    for key, value in pairs:
        if key in seen:
            continue
        seen.add(key)
        text = str(value)
        if "," in text or '"' in text:
            text = json.dumps(text, ensure_ascii=False)
        settings.append(f"{key}: {text}")
    lines.append(", ".join(settings))
    return "\n".join(lines) + "\n"


def comfyui_api_graph(carried: Carried) -> dict[str, Any]:
    """A text-to-image graph in ComfyUI's API format (what "Save (API)" writes and the
    ``/prompt`` endpoint takes): checkpoint, both prompts, an empty latent, a KSampler with
    the seed, decode and save."""

    def setting(a1111_key: str, comfy_key: str) -> Any:
        value = carried.setting(a1111_key, comfy_key)
        return _DEFAULTS[comfy_key] if value is None else value

    return {
        "4": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": carried.model or "model.safetensors"},
        },
        "6": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": carried.prompt, "clip": ["4", 1]},
        },
        "7": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": carried.negative_prompt, "clip": ["4", 1]},
        },
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {
                "width": carried.width or 1024,
                "height": carried.height or 1024,
                "batch_size": 1,
            },
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": carried.seed if carried.seed is not None else 0,
                "steps": setting("Steps", "steps"),
                "cfg": setting("CFG scale", "cfg"),
                "sampler_name": setting("Sampler", "sampler_name"),
                "scheduler": setting("Schedule type", "scheduler"),
                "denoise": setting("Denoising strength", "denoise"),
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "draftroom", "images": ["8", 0]},
        },
    }
