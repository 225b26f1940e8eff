from __future__ import annotations

import dataclasses
import io
import json
import os
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.images import (
    HOSTILE_CASES,
    encode_jpeg,
    jpeg_bytes,
    pattern_image,
    png_bytes,
    png_chunk,
    user_comment_bytes,
    webp_bytes,
)
from workers.genmeta import (
    SIDECAR_MAX_BYTES,
    GenerationInfo,
    parse_a1111,
    parse_comfyui,
    read_embedded,
    read_sidecar,
)

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


# --- GenerationInfo --------------------------------------------------------------------------


def test_fresh_generation_info_is_empty_and_sources_alone_do_not_count() -> None:
    assert GenerationInfo().is_empty()
    assert GenerationInfo(sources=["png:parameters"]).is_empty()
    assert not GenerationInfo(seed=0).is_empty()
    assert not GenerationInfo(references=["ref.png"]).is_empty()


def test_merging_keeps_our_values_and_fills_gaps_from_the_other() -> None:
    ours = GenerationInfo(
        prompt="ours",
        seed=None,
        parameters={"steps": 30, "cfg": 7},
        references=["a.png", "b.png"],
        sources=["png:parameters"],
    )
    theirs = GenerationInfo(
        prompt="theirs",
        negative_prompt="blurry",
        model="sdxl",
        seed=0,
        parameters={"steps": 20, "sampler": "euler"},
        references=["b.png", "c.png"],
        sources=["sidecar:x.json"],
    )
    merged = ours.merged_with(theirs)
    assert merged.prompt == "ours"
    assert merged.negative_prompt == "blurry"
    assert merged.model == "sdxl"
    assert merged.seed == 0
    assert merged.parameters == {"steps": 30, "cfg": 7, "sampler": "euler"}
    assert merged.references == ["a.png", "b.png", "c.png"]
    assert merged.sources == ["png:parameters", "sidecar:x.json"]
    assert ours.parameters == {"steps": 30, "cfg": 7}, "merging must not mutate"


# --- Automatic1111 ---------------------------------------------------------------------------


def test_a1111_parameters_are_parsed_including_quoted_values_with_commas() -> None:
    info = parse_a1111(A1111_TEXT)
    assert info.prompt == "studio shot of a sparkling water can,\nsnowy mountains, soft light"
    assert info.negative_prompt == "blurry, low quality\nwatermark"
    assert info.generator == "Automatic1111"
    assert info.model == "sd_xl_base_1.0"
    assert info.seed == 1234567
    assert info.parameters == {
        "Steps": 30,
        "Sampler": "DPM++ 2M Karras",
        "CFG scale": 7,
        "Seed": 1234567,
        "Size": "1024x1024",
        "Model hash": "31e35c80fc",
        "Model": "sd_xl_base_1.0",
        "Lora hashes": "foo: abc, bar: def",
        "Version": "v1.6.0",
    }
    assert_storable(info)


def test_a1111_without_negative_prompt_keeps_the_whole_prompt() -> None:
    info = parse_a1111("a cat\non a sofa\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 9")
    assert info.prompt == "a cat\non a sofa"
    assert info.negative_prompt == ""
    assert info.parameters["CFG scale"] == 7.5
    assert info.seed == 9


def test_a1111_with_windows_line_endings_and_escaped_quotes() -> None:
    text = (
        "a can\r\nNegative prompt: text\r\n"
        'Steps: 25, Seed: 42, Sampler: Euler, TI hashes: "say \\"hi\\", there", '
        "Denoising strength: 0.35"
    )
    info = parse_a1111(text)
    assert info.prompt == "a can"
    assert info.negative_prompt == "text"
    assert info.parameters["TI hashes"] == 'say "hi", there'
    assert info.parameters["Denoising strength"] == 0.35


def test_a1111_hash_made_only_of_digits_stays_text() -> None:
    info = parse_a1111("x\nSteps: 20, Seed: 1, Model hash: 0123456789, Sampler: Euler")
    assert info.parameters["Model hash"] == "0123456789"


def test_a1111_with_empty_prompt_keeps_only_the_negative() -> None:
    info = parse_a1111("Negative prompt: ugly\nSteps: 20, Seed: 3, Sampler: Euler")
    assert (info.prompt, info.negative_prompt, info.seed) == ("", "ugly", 3)


def test_text_without_a_settings_line_is_a_plain_prompt() -> None:
    info = parse_a1111("a watercolour fjord at dawn\nwith a red cabin")
    assert info.prompt == "a watercolour fjord at dawn\nwith a red cabin"
    assert info.generator == ""
    assert info.parameters == {}


def test_prose_with_colons_is_not_mistaken_for_a1111_settings() -> None:
    info = parse_a1111("style: noir, mood: calm, light: soft")
    assert info.prompt == "style: noir, mood: calm, light: soft"
    assert info.parameters == {}


def test_non_numeric_seed_is_kept_as_a_parameter_only() -> None:
    info = parse_a1111("x\nSteps: 20, Seed: random, Sampler: Euler")
    assert info.seed is None
    assert info.parameters["Seed"] == "random"


def test_nul_bytes_and_lone_surrogates_are_scrubbed_from_parsed_text() -> None:
    info = parse_a1111("a\x00 can \ud800\nSteps: 20, Seed: 1, Sampler: Eu\x00ler")
    assert "\x00" not in info.prompt
    assert info.parameters["Sampler"] == "Euler"
    assert_storable(info)


# --- ComfyUI ---------------------------------------------------------------------------------

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


# --- embedded metadata -----------------------------------------------------------------------


def test_png_parameters_chunk_is_read_as_a1111() -> None:
    info = read_embedded(png_bytes(text={"parameters": A1111_TEXT}))
    assert info.generator == "Automatic1111"
    assert info.seed == 1234567
    assert info.sources == ["png:parameters"]


def test_png_parameters_with_non_latin_text_round_trip_through_itxt() -> None:
    text = "雪山と缶 ❄️\nSteps: 20, Seed: 1, Sampler: Euler"
    info = read_embedded(png_bytes(text={"parameters": text}))
    assert info.prompt == "雪山と缶 ❄️"


def test_compressed_png_text_chunks_are_read() -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT, zip=True)
    info.add_itxt("prompt", json.dumps(COMFY_PROMPT), zip=True)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "PNG", pnginfo=info)
    found = read_embedded(buffer.getvalue())
    assert found.seed == 1234567  # A1111 wins over ComfyUI
    assert found.sources == ["png:parameters", "png:prompt"]


def test_text_chunks_after_the_image_data_are_found_without_decoding_pixels() -> None:
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    late = png_chunk(b"tEXt", b"parameters\x00" + A1111_TEXT.encode("latin-1"))
    info = read_embedded(data[:iend] + late + data[iend:])
    assert info.seed == 1234567


def test_png_comfyui_chunks_are_read_with_their_sources() -> None:
    data = png_bytes(
        text={"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)}
    )
    info = read_embedded(data)
    assert (info.generator, info.prompt, info.model) == ("ComfyUI", "a cat", "v1-5.safetensors")
    assert info.sources == ["png:prompt", "png:workflow"]


def test_fooocus_style_json_parameters_are_understood() -> None:
    payload = {"prompt": "a can", "negative_prompt": "ugly", "seed": "42", "steps": 30}
    info = read_embedded(png_bytes(text={"parameters": json.dumps(payload)}))
    assert (info.prompt, info.negative_prompt, info.seed) == ("a can", "ugly", 42)
    assert info.parameters == {"steps": 30}


def test_novelai_comment_json_is_understood() -> None:
    comment = {"prompt": "1girl, fjord", "uc": "lowres", "seed": 99, "steps": 28, "scale": 5}
    data = png_bytes(
        text={
            "Comment": json.dumps(comment),
            "Software": "NovelAI",
            "Source": "NovelAI Diffusion V3",
        }
    )
    info = read_embedded(data)
    assert (info.prompt, info.negative_prompt, info.seed) == ("1girl, fjord", "lowres", 99)
    assert (info.generator, info.model) == ("NovelAI", "NovelAI Diffusion V3")
    assert info.parameters == {"seed": 99, "steps": 28, "scale": 5}


def test_png_description_chunk_becomes_the_prompt() -> None:
    info = read_embedded(png_bytes(text={"Description": "a can on a glacier --ar 1:1"}))
    assert info.prompt == "a can on a glacier --ar 1:1"
    assert info.sources == ["png:Description"]


def test_a1111_text_in_a_jpeg_user_comment_is_detected() -> None:
    info = read_embedded(jpeg_bytes(user_comment=A1111_TEXT))
    assert info.generator == "Automatic1111"
    assert info.model == "sd_xl_base_1.0"
    assert info.negative_prompt == "blurry, low quality\nwatermark"
    assert info.sources == ["exif:UserComment"]


@pytest.mark.parametrize("charset", ["unicode-be", "unicode-le", "ascii", "undefined"])
def test_user_comment_charsets_are_decoded(charset: str) -> None:
    text = "a can on ice\nSteps: 20, Seed: 5, Sampler: Euler"
    info = read_embedded(jpeg_bytes(user_comment=user_comment_bytes(text, charset)))
    assert info.prompt == "a can on ice"
    assert info.seed == 5


def test_plain_user_comment_becomes_the_prompt() -> None:
    info = read_embedded(jpeg_bytes(user_comment="hand-drawn sketch of a fjord"))
    assert info.prompt == "hand-drawn sketch of a fjord"
    assert info.generator == ""
    assert info.sources == ["exif:UserComment"]


def test_exif_image_description_in_utf8_becomes_the_prompt() -> None:
    info = read_embedded(jpeg_bytes(description="Fjell på fjellet ❄️"))
    assert info.prompt == "Fjell på fjellet ❄️"
    assert info.sources == ["exif:ImageDescription"]


def test_camera_placeholder_descriptions_are_ignored() -> None:
    assert read_embedded(jpeg_bytes(description="OLYMPUS DIGITAL CAMERA")).is_empty()


def test_a1111_user_comment_in_webp_exif_is_detected() -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = user_comment_bytes(A1111_TEXT)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", exif=exif.tobytes())
    info = read_embedded(buffer.getvalue())
    assert info.seed == 1234567


def test_comfyui_graph_in_webp_exif_model_tag_is_detected() -> None:
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(COMFY_PROMPT)
    exif[0x010F] = "workflow:" + json.dumps(COMFY_WORKFLOW)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", exif=exif.tobytes())
    info = read_embedded(buffer.getvalue())
    assert (info.generator, info.prompt) == ("ComfyUI", "a cat")
    assert info.sources == ["exif:Model", "exif:Make"]


def xmp_packet(description: str, extra: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:description><rdf:Alt>"
        f'{extra}<rdf:li xml:lang="x-default">{description}</rdf:li>'
        "</rdf:Alt></dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def test_xmp_description_in_jpeg_becomes_the_prompt_preferring_x_default() -> None:
    buffer = io.BytesIO()
    xmp = xmp_packet("a can &amp; a lemon", extra='<rdf:li xml:lang="nb-NO">en boks</rdf:li>')
    pattern_image((32, 32)).save(buffer, "JPEG", xmp=xmp)
    info = read_embedded(buffer.getvalue())
    assert info.prompt == "a can & a lemon"
    assert info.sources == ["xmp:dc:description"]


def test_xmp_description_in_png_and_webp_is_read() -> None:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet("png xmp").decode())
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "PNG", pnginfo=info)
    assert read_embedded(buffer.getvalue()).prompt == "png xmp"

    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", xmp=xmp_packet("webp xmp"))
    assert read_embedded(buffer.getvalue()).prompt == "webp xmp"


def test_xmp_with_entity_expansion_is_refused_by_the_safe_parser() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li>'
        b"&lol2;</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    external = bomb.replace(b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">')
    for xmp in (bomb, external):
        buffer = io.BytesIO()
        pattern_image((16, 16)).save(buffer, "JPEG", xmp=xmp)
        assert read_embedded(buffer.getvalue()).is_empty()


def test_structured_generator_metadata_outranks_free_text_descriptions() -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT)
    info.add_text("Description", "a description")
    info.add_itxt("XML:com.adobe.xmp", xmp_packet("an xmp description").decode())
    buffer = io.BytesIO()
    pattern_image((16, 16)).save(buffer, "PNG", pnginfo=info)
    found = read_embedded(buffer.getvalue())
    assert found.prompt.startswith("studio shot")
    assert found.sources == ["png:parameters", "xmp:dc:description", "png:Description"]


def test_image_without_metadata_gives_empty_info() -> None:
    for data in (png_bytes(), jpeg_bytes(), webp_bytes()):
        info = read_embedded(data)
        assert info.is_empty()
        assert info.sources == []


def test_compressed_text_bomb_is_skipped_rather_than_inflated() -> None:
    bomb = zlib.compress(b"a" * (20 * 1024 * 1024), 9)
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    chunk = png_chunk(b"zTXt", b"parameters\x00\x00" + bomb)
    assert read_embedded(data[:iend] + chunk + data[iend:]).is_empty()


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_hostile_files_never_raise_from_read_embedded(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    assert_storable(read_embedded(data))


FUZZ_SEEDS = [
    png_bytes(text={"parameters": A1111_TEXT, "prompt": json.dumps(COMFY_PROMPT)}),
    encode_jpeg(pattern_image((16, 16)), user_comment=A1111_TEXT, description="desc"),
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(FUZZ_SEEDS))),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 1 << 16)),
)
def test_mutated_metadata_never_raises_and_stays_storable(
    seed: int, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(FUZZ_SEEDS[seed])
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    assert_storable(read_embedded(bytes(data)))


# --- sidecars --------------------------------------------------------------------------------


def test_json_sidecar_fills_known_fields_and_keeps_unknown_keys_as_parameters(
    tmp_path: Path,
) -> None:
    image = tmp_path / "draft-01.png"
    image.write_bytes(png_bytes())
    (tmp_path / "draft-01.json").write_text(
        json.dumps(
            {
                "prompt": "a can",
                "negative_prompt": "blurry",
                "generator": "Midjourney",
                "model": "v6",
                "seed": 7,
                "parameters": {"stylize": 250},
                "references": ["moodboard.jpg", "moodboard.jpg", 5, "logo.svg"],
                "aspect": "1:1",
            }
        ),
        encoding="utf-8",
    )
    info = read_sidecar(image)
    assert (info.prompt, info.negative_prompt, info.generator) == ("a can", "blurry", "Midjourney")
    assert (info.model, info.seed) == ("v6", 7)
    assert info.parameters == {"stylize": 250, "aspect": "1:1"}
    assert info.references == ["moodboard.jpg", "logo.svg"]
    assert info.sources == ["sidecar:draft-01.json"]


def test_txt_sidecar_in_a1111_format_is_parsed(tmp_path: Path) -> None:
    image = tmp_path / "draft.jpg"
    (tmp_path / "draft.txt").write_text(A1111_TEXT, encoding="utf-8")
    info = read_sidecar(image)
    assert info.generator == "Automatic1111"
    assert info.seed == 1234567
    assert info.sources == ["sidecar:draft.txt"]


def test_txt_sidecar_without_settings_is_a_plain_prompt(tmp_path: Path) -> None:
    (tmp_path / "draft.txt").write_text("\ufeffjust a prompt\n", encoding="utf-8")
    info = read_sidecar(tmp_path / "draft.png")
    assert info.prompt == "just a prompt"
    assert info.parameters == {}


def test_json_and_txt_sidecars_are_merged_with_json_winning(tmp_path: Path) -> None:
    (tmp_path / "draft.json").write_text('{"prompt": "from json"}', encoding="utf-8")
    (tmp_path / "draft.txt").write_text(A1111_TEXT, encoding="utf-8")
    info = read_sidecar(tmp_path / "draft.png")
    assert info.prompt == "from json"
    assert info.seed == 1234567
    assert info.sources == ["sidecar:draft.json", "sidecar:draft.txt"]


def test_sidecar_named_after_the_full_file_name_is_found(tmp_path: Path) -> None:
    (tmp_path / "draft.png.json").write_text('{"prompt": "full name"}', encoding="utf-8")
    assert read_sidecar(tmp_path / "draft.png").prompt == "full name"


def test_missing_sidecar_gives_empty_info(tmp_path: Path) -> None:
    assert read_sidecar(tmp_path / "nothing.png") == GenerationInfo()


@pytest.mark.parametrize(
    "content",
    ["{broken", "[1, 2]", '"text"', "null", '{"seed": true, "prompt": 5}', "\xff\xfe"],
)
def test_bad_json_sidecar_gives_empty_info(tmp_path: Path, content: str) -> None:
    (tmp_path / "draft.json").write_text(content, encoding="utf-8", errors="surrogateescape")
    assert read_sidecar(tmp_path / "draft.png").is_empty()


def test_oversized_sidecar_is_ignored(tmp_path: Path) -> None:
    padding = " " * SIDECAR_MAX_BYTES
    (tmp_path / "draft.json").write_text('{"prompt": "big"}' + padding, encoding="utf-8")
    assert read_sidecar(tmp_path / "draft.png").is_empty()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_sidecar_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n", encoding="utf-8")
    (tmp_path / "draft.txt").symlink_to(secret)
    assert read_sidecar(tmp_path / "draft.png").is_empty()


def test_seed_given_as_a_string_in_a_sidecar_is_converted(tmp_path: Path) -> None:
    (tmp_path / "draft.json").write_text('{"seed": "123", "prompt": "x"}', encoding="utf-8")
    assert read_sidecar(tmp_path / "draft.png").seed == 123
