"""The node: each image of the batch becomes a PNG with the workflow embedded the way ComfyUI's
own Save Image writes it ("prompt" and "workflow" text chunks, which Draftroom's metadata
reader understands), posted to a Draftroom campaign through the API."""

from __future__ import annotations

import io
import json
import os
from typing import Any

from .client import batch_for, post_image


class SaveToDraftroom:
    CATEGORY = "image"
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                "images": ("IMAGE",),
                "draftroom_url": ("STRING", {"default": "http://127.0.0.1:8000"}),
                "campaign_id": ("INT", {"default": 1, "min": 1}),
                "batch_name": ("STRING", {"default": "ComfyUI"}),
                "filename_prefix": ("STRING", {"default": "comfy"}),
            },
            "optional": {
                # Empty: read DRAFTROOM_TOKEN from ComfyUI's environment (keeps it out of
                # the workflow JSON, which is embedded in every image).
                "token": ("STRING", {"default": ""}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save(
        self,
        images: Any,
        draftroom_url: str,
        campaign_id: int,
        batch_name: str,
        filename_prefix: str,
        token: str = "",
        prompt: Any = None,
        extra_pnginfo: Any = None,
    ) -> dict[str, Any]:
        import numpy as np
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        token = token or os.environ.get("DRAFTROOM_TOKEN", "")
        if not token:
            raise ValueError("Save to Draftroom needs a token: set DRAFTROOM_TOKEN.")
        batch_id = batch_for(draftroom_url, token, campaign_id=campaign_id, name=batch_name)
        results = []
        for index, image in enumerate(images):
            pixels = np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
            info = PngInfo()
            if prompt is not None:
                info.add_text("prompt", json.dumps(prompt))
            for key, value in (extra_pnginfo or {}).items():
                info.add_text(key, json.dumps(value))
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info, compress_level=4)
            answer = post_image(
                draftroom_url,
                token,
                batch_id=batch_id,
                png=buffer.getvalue(),
                name=f"{filename_prefix}_{index:05}.png",
                metadata={"generator": "ComfyUI"},
            )
            results.append(f"{answer['status']} draft {answer['draft_id']}")
        return {"ui": {"text": results}}


NODE_CLASS_MAPPINGS = {"SaveToDraftroom": SaveToDraftroom}
NODE_DISPLAY_NAME_MAPPINGS = {"SaveToDraftroom": "Save to Draftroom"}
