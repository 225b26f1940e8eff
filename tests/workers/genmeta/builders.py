"""Shared inputs for the genmeta tests: A1111 parameters text, a ComfyUI graph in both formats."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from workers.genmeta import GenerationInfo

A1111_SETTINGS = (
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 1024x1024, "
    'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "foo: abc, bar: def", '
    "Version: v1.6.0"
)
A1111_TEXT = (
    "studio shot of a sparkling water can,\n"
    "snowy mountains, soft light\n"
    "Negative prompt: blurry, low quality\n"
    "watermark\n" + A1111_SETTINGS
)


def assert_storable(info: GenerationInfo) -> None:
    """Everything must survive strict JSON and a PostgreSQL text column."""
    encoded = json.dumps(dataclasses.asdict(info), allow_nan=False)
    assert "\\u0000" not in encoded
    encoded.encode("utf-8")


COMFY_PROMPT: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 5,
            "steps": 20,
            "cfg": 8,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
}


COMFY_WORKFLOW: dict[str, Any] = {
    "nodes": [
        {
            "id": 3,
            "type": "KSampler",
            "inputs": [
                {"name": "model", "link": 1},
                {"name": "positive", "link": 4},
                {"name": "negative", "link": 6},
            ],
            "widgets_values": [156680208700286, "randomize", 20, 8, "euler", "normal", 1],
        },
        {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["v1-5.safetensors"]},
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a cat from the UI"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["blurry"]},
        {"id": 9, "type": "Note", "widgets_values": ["just a note"]},
    ],
    "links": [
        [1, 4, 0, 3, 0, "MODEL"],
        [4, 6, 0, 3, 1, "CONDITIONING"],
        [6, 7, 0, 3, 2, "CONDITIONING"],
    ],
}
