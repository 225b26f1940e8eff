"""ComfyUI graphs, API and UI formats, including hostile ones."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workers.genmeta.builders import COMFY_PROMPT, COMFY_WORKFLOW, assert_storable
from workers.genmeta import parse_a1111, parse_comfyui


def test_comfyui_api_graph_follows_sampler_links_to_prompts_model_and_settings() -> None:
    info = parse_comfyui(json.dumps(COMFY_PROMPT), None)
    assert info.generator == "ComfyUI"
    assert info.prompt == "a cat"
    assert info.negative_prompt == "blurry"
    assert info.model == "v1-5.safetensors"
    assert info.seed == 5
    assert info.parameters == {
        "seed": 5,
        "steps": 20,
        "cfg": 8,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1,
    }
    assert_storable(info)


def test_comfyui_advanced_sampler_uses_noise_seed() -> None:
    graph = json.loads(json.dumps(COMFY_PROMPT))
    inputs = graph["3"]["inputs"]
    graph["3"]["class_type"] = "KSamplerAdvanced"
    inputs["noise_seed"] = inputs.pop("seed")
    info = parse_comfyui(json.dumps(graph), None)
    assert info.seed == 5
    assert info.parameters["seed"] == 5


def test_comfyui_prompt_text_that_is_itself_a_link_is_resolved() -> None:
    graph = json.loads(json.dumps(COMFY_PROMPT))
    graph["6"]["inputs"]["text"] = ["10", 0]
    graph["10"] = {"class_type": "PrimitiveString", "inputs": {"value": "a linked cat"}}
    graph["3"]["inputs"]["seed"] = ["11", 0]
    graph["11"] = {"class_type": "PrimitiveInt", "inputs": {"value": 77}}
    info = parse_comfyui(json.dumps(graph), None)
    assert info.prompt == "a linked cat"
    assert info.seed == 77


def test_comfyui_links_to_missing_nodes_and_cycles_do_not_break_parsing() -> None:
    graph = json.loads(json.dumps(COMFY_PROMPT))
    graph["3"]["inputs"]["positive"] = ["99", 0]
    graph["3"]["inputs"]["model"] = ["12", 0]
    graph["7"]["inputs"]["text"] = ["7", 0]
    graph["12"] = {"class_type": "LoraLoader", "inputs": {"model": ["12", 0]}}
    info = parse_comfyui(json.dumps(graph), None)
    assert info.prompt == ""
    assert info.negative_prompt == ""
    assert info.model == "v1-5.safetensors"  # falls back to the only checkpoint loader
    assert info.generator == "ComfyUI"


def test_comfyui_model_is_found_through_lora_loaders_which_are_listed() -> None:
    graph = json.loads(json.dumps(COMFY_PROMPT))
    graph["3"]["inputs"]["model"] = ["12", 0]
    graph["12"] = {
        "class_type": "LoraLoader",
        "inputs": {"lora_name": "fjell-style.safetensors", "model": ["4", 0], "clip": ["4", 1]},
    }
    info = parse_comfyui(json.dumps(graph), None)
    assert info.model == "v1-5.safetensors"
    assert info.parameters["loras"] == ["fjell-style.safetensors"]


def test_comfyui_controlnet_conditioning_routes_positive_and_negative_by_output_slot() -> None:
    graph = json.loads(json.dumps(COMFY_PROMPT))
    graph["3"]["inputs"]["positive"] = ["20", 0]
    graph["3"]["inputs"]["negative"] = ["20", 1]
    graph["20"] = {
        "class_type": "ControlNetApplyAdvanced",
        "inputs": {"positive": ["6", 0], "negative": ["7", 0], "image": ["21", 0]},
    }
    graph["21"] = {"class_type": "LoadImage", "inputs": {"image": "pose-ref.png"}}
    info = parse_comfyui(json.dumps(graph), None)
    assert (info.prompt, info.negative_prompt) == ("a cat", "blurry")
    assert info.references == ["pose-ref.png"]


def test_comfyui_custom_advanced_sampler_reads_its_helper_nodes() -> None:
    graph = {
        "13": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["25", 0],
                "guider": ["22", 0],
                "sampler": ["16", 0],
                "sigmas": ["17", 0],
            },
        },
        "25": {"class_type": "RandomNoise", "inputs": {"noise_seed": 123}},
        "22": {
            "class_type": "BasicGuider",
            "inputs": {"model": ["12", 0], "conditioning": ["6", 0]},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fjord"}},
        "12": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "16": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "17": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 28}},
    }
    info = parse_comfyui(json.dumps(graph), None)
    assert info.prompt == "a fjord"
    assert info.model == "flux1-dev.safetensors"
    assert info.seed == 123
    assert info.parameters == {
        "seed": 123,
        "steps": 28,
        "sampler_name": "euler",
        "scheduler": "simple",
    }


def test_comfyui_ui_workflow_is_used_when_the_api_graph_is_missing() -> None:
    info = parse_comfyui(None, json.dumps(COMFY_WORKFLOW))
    assert info.prompt == "a cat from the UI"
    assert info.negative_prompt == "blurry"
    assert info.model == "v1-5.safetensors"
    assert info.seed == 156680208700286
    assert info.parameters["steps"] == 20
    assert info.parameters["sampler_name"] == "euler"


@pytest.mark.parametrize(
    ("prompt", "workflow"),
    [
        (None, None),
        ("", ""),
        ("{not json", "[1, 2"),
        ("[1, 2, 3]", '"a string"'),
        ('{"3": {"class_type": 5}}', '{"nodes": "nope"}'),
        ("[" * 100_000 + "]" * 100_000, None),
    ],
)
def test_comfyui_bad_json_gives_empty_info(prompt: str | None, workflow: str | None) -> None:
    assert parse_comfyui(prompt, workflow).is_empty()


def test_comfyui_graph_with_converging_branches_is_walked_in_linear_time() -> None:
    # Each combine node links twice to the next: 2**30 paths if every path were followed.
    graph: dict[str, Any] = {
        "1": {"class_type": "KSampler", "inputs": {"positive": ["100", 0], "seed": 1}},
        "130": {"class_type": "CLIPTextEncode", "inputs": {"text": "deep"}},
    }
    for level in range(100, 130):
        graph[str(level)] = {
            "class_type": "ConditioningCombine",
            "inputs": {
                "conditioning_1": [str(level + 1), 0],
                "conditioning_2": [str(level + 1), 0],
            },
        }
    started = time.perf_counter()
    info = parse_comfyui(json.dumps(graph), None)
    assert time.perf_counter() - started < 2
    assert info.prompt == "deep"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["3", "4", "6", "inputs", "class_type", "text"]), children
        )
    ),
    max_leaves=30,
)
graph_nodes = st.fixed_dictionaries(
    {
        "class_type": st.sampled_from(
            ["KSampler", "CLIPTextEncode", "CheckpointLoaderSimple", "LoraLoader", "X"]
        ),
        "inputs": st.dictionaries(
            st.sampled_from(["text", "seed", "model", "positive", "negative", "ckpt_name"]),
            json_values | st.tuples(st.sampled_from(["1", "2", "3", 4]), st.integers(0, 2)),
        ),
    }
)


@settings(max_examples=100, deadline=None)
@given(
    graph=st.dictionaries(st.sampled_from(["1", "2", "3", "4"]), graph_nodes | json_values),
    workflow=json_values,
)
def test_arbitrary_comfyui_graphs_never_raise_and_stay_storable(
    graph: dict[str, Any], workflow: Any
) -> None:
    assert_storable(parse_comfyui(json.dumps(graph), json.dumps(workflow)))


@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_arbitrary_text_parses_as_a1111_without_raising(text: str) -> None:
    assert_storable(parse_a1111(text))


def test_comfyui_nan_values_never_reach_the_parameters() -> None:
    text = json.dumps(COMFY_PROMPT).replace('"cfg": 8', '"cfg": NaN')
    info = parse_comfyui(text, None)
    assert "cfg" not in info.parameters
    assert_storable(info)
