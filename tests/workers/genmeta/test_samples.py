"""Real files written by real generators, read by our readers and sd-parsers together.

The files and what they hold are in tests/workers/genmeta_samples/ (see its README).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.workers.genmeta.builders import assert_storable
from workers.genmeta import GenerationInfo, read_embedded

SAMPLES = Path(__file__).resolve().parent.parent / "genmeta_samples"
EXPECTED: dict[str, dict[str, Any]] = json.loads((SAMPLES / "expected.json").read_text())
# Automatic1111's "stealth" info hides in the alpha channel's low bits; reading it means
# decoding every pixel of every upload, which intake does not do for metadata.
STEALTH = "automatic1111_stealth.png"


def read(name: str) -> GenerationInfo:
    return read_embedded((SAMPLES / name).read_bytes())


def lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {STEALTH}))
def test_each_real_generator_file_gives_its_generator_seed_model_and_prompts(name: str) -> None:
    want = EXPECTED[name]
    info = read(name)
    assert info.generator == want["generator"]
    assert info.seed == want["seed"]
    assert (info.model or None) == want["model"]
    assert lines(info.prompt) == lines(want["prompt"])
    assert lines(info.negative_prompt) == lines(want["negative_prompt"] or "")
    assert info.sources
    assert not info.notes
    assert_storable(info)


def test_stealth_metadata_in_the_alpha_channel_is_not_read() -> None:
    info = read(STEALTH)
    assert info.is_empty()
    assert not info.notes


@pytest.mark.parametrize(
    "name", ["invokeai_dream1.png", "invokeai_imeta1.png", "invokeai_sdmeta1.png"]
)
def test_invokeai_files_are_read_by_sd_parsers_and_say_so(name: str) -> None:
    info = read(name)
    assert info.generator == "InvokeAI"
    assert info.sources
    assert all(source.endswith("(sd-parsers)") for source in info.sources)


def test_where_our_reader_already_read_everything_sd_parsers_is_not_credited() -> None:
    assert read("automatic1111_cropped.png").sources == ["png:parameters"]
    assert read("img2img_cropped.png").sources == ["png:prompt", "png:workflow"]


def test_sd_parsers_fills_fooocus_generator_and_model_beside_our_prompt_and_seed() -> None:
    info = read("fooocus1_cropped.png")
    assert (info.generator, info.model) == ("Fooocus", "juggernautXL_v8Rundiffusion")
    assert info.sources == ["png:parameters", "png:parameters (sd-parsers)"]
    # Our parameters (Fooocus' own keys) are kept whole rather than mixed with sd-parsers'.
    assert info.parameters["base_model"] == "juggernautXL_v8Rundiffusion"
    assert "cfg_scale" not in info.parameters


def test_a_two_pass_graph_keeps_both_prompts_labelled_by_pass() -> None:
    info = read("unclip_2pass_cropped.png")
    assert [p.label for p in info.passes] == [
        "Pass 1 · uni_pc_bh2, node 3",
        "Pass 2 · dpmpp_sde, node 41",
    ]
    assert info.passes[1].prompts == ["beautiful scenery landscape outdoors mountains"]
    assert info.passes[1].model == "cardosAnimated_v20.safetensors"
    assert info.passes[1].seed == 119080905858220
    assert info.passes[1].parameters["steps"] == 8
    # The top-level record is still the pass that set the composition.
    assert info.model == info.passes[0].model


def test_every_prompt_of_a_regional_multi_pass_graph_is_kept() -> None:
    info = read("night_evening_day_morning_cropped.png")
    assert len(info.passes) == 2
    first, second = info.passes
    assert len(first.prompts) == 5
    assert any("(night:1.3)" in text for text in first.prompts)
    assert any("morning sky" in text for text in first.prompts)
    assert second.prompts[0].startswith("(best quality) beautiful (HDR:1.2)")
    assert second.model == "AbyssOrangeMix2_hard.safetensors"


def test_a_six_sampler_graph_lists_six_passes_in_graph_order() -> None:
    info = read("noisy_latents_3_subjects_cropped.png")
    assert [p.label.split(" · ")[0] for p in info.passes] == [f"Pass {n}" for n in range(1, 7)]
    assert all(p.prompts for p in info.passes)
    assert len({p.seed for p in info.passes}) == 6
