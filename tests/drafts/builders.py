"""Builders for the drafts tests and for every test that needs a draft's previews made."""

from __future__ import annotations

import itertools

from apps.drafts.models import Batch, Draft, PreviewJob
from apps.drafts.runs import draft_preview_run
from tests.core.builders import run_queued
from tests.factories import make_draft
from tests.images import png_bytes


def run_previews() -> None:
    """Make the previews of every draft whose preview job is queued."""
    run_queued(PreviewJob, draft_preview_run)


_colours = itertools.count(1)


def a1111(prompt: str, *, seed: int, lora: str = "", model: str = "sd_xl_base_1.0") -> str:
    lora_tag = f" <lora:{lora}:0.8>" if lora else ""
    return (
        f"{prompt}{lora_tag}\nNegative prompt: blurry, watermark\n"
        f"Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: {seed}, Size: 64x48, "
        f"Model: {model}, Version: v1.6.0"
    )


def generated(batch: Batch, name: str, prompt: str, *, seed: int, lora: str = "", by=None) -> Draft:
    """A draft through the real intake whose PNG carries A1111 parameters: the prompt, a
    LoRA tag, a seed, a sampler and a model."""
    n = next(_colours)
    data = png_bytes(
        color=(n % 256, 40, 200), text={"parameters": a1111(prompt, seed=seed, lora=lora)}
    )
    return make_draft(batch, name=name, data=data, by=by)
