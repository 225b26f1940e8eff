"""The generator inputs written from a record read back, through our own parsers, to the same
prompt, negative prompt, seed and model."""

from __future__ import annotations

import json

from workers.genmeta.a1111 import parse_a1111
from workers.genmeta.comfyui import parse_comfyui
from workers.genmeta.writers import Carried, a1111_parameters, comfyui_api_graph

CARRIED = Carried(
    prompt="a can of Fjell, glacier, morning light, 新しい味",
    negative_prompt="blurry, text",
    seed=1234567890123,
    model="sdxl_base_1.0",
    width=1024,
    height=768,
    parameters={"Steps": 30, "Sampler": "DPM++ 2M", "CFG scale": 6.5},
)


def test_the_a1111_text_reads_back_to_the_same_prompt_seed_and_settings():
    info = parse_a1111(a1111_parameters(CARRIED))
    assert (info.prompt, info.negative_prompt) == (CARRIED.prompt, CARRIED.negative_prompt)
    assert (info.seed, info.model) == (CARRIED.seed, CARRIED.model)
    assert info.parameters["Steps"] == 30 and info.parameters["Size"] == "1024x768"


def test_the_comfyui_graph_reads_back_to_the_same_prompt_seed_and_model():
    graph = comfyui_api_graph(CARRIED)
    info = parse_comfyui(json.dumps(graph), None)
    assert (info.prompt, info.negative_prompt) == (CARRIED.prompt, CARRIED.negative_prompt)
    assert (info.seed, info.model) == (CARRIED.seed, CARRIED.model)
    assert info.parameters["steps"] == 30 and info.parameters["cfg"] == 6.5


def test_comfyui_settings_carry_into_an_a1111_text_and_missing_ones_get_defaults():
    carried = Carried(prompt="p", parameters={"steps": 12, "cfg": 4.0, "sampler_name": "euler"})
    assert "Steps: 12, Sampler: euler, CFG scale: 4.0" in a1111_parameters(carried)
    sampler = comfyui_api_graph(Carried(prompt="p"))["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (0, 20, 7.0)
