"""sd-parsers beside our readers: who wins, failures on either side, and the input limits."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sd_parsers.parsers import ComfyUIParser, NovelAIParser

from tests.images import encode_jpeg, pattern_image, png_bytes
from tests.workers.genmeta.builders import assert_storable
from workers.genmeta import GenerationInfo, embedded, read_embedded
from workers.genmeta.embedded import combine

SAMPLES = Path(__file__).resolve().parent.parent / "genmeta_samples"
NOVELAI = SAMPLES / "novelai1_cropped.png"
INVOKEAI = SAMPLES / "invokeai_sdmeta1.png"


def boom(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("a bug in a parser")


def test_ours_wins_where_both_read_and_sd_parsers_fills_the_gaps() -> None:
    ours = GenerationInfo(prompt="ours", seed=1, parameters={"Steps": 30}, sources=["png:a"])
    theirs = GenerationInfo(
        prompt="theirs", model="m", seed=2, parameters={"steps": 30}, sources=["png:a (sd)"]
    )
    merged = combine(ours, theirs)
    assert (merged.prompt, merged.model, merged.seed) == ("ours", "m", 1)
    assert merged.parameters == {"Steps": 30}
    assert merged.sources == ["png:a", "png:a (sd)"]


def test_sd_parsers_is_not_credited_when_it_added_nothing() -> None:
    ours = GenerationInfo(prompt="ours", model="m", sources=["png:a"])
    theirs = GenerationInfo(prompt="theirs", model="n", sources=["png:a (sd)"])
    assert combine(ours, theirs).sources == ["png:a"]


def test_a_failing_sd_parsers_leaves_our_findings_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(NovelAIParser, "parse", boom)
    info = read_embedded(NOVELAI.read_bytes())
    assert info.prompt == "masterpiece, best quality,  cat, space, icon"
    assert info.seed is None
    assert info.notes == [
        "sd-parsers failed on png:Comment, png:Description, png:Source (RuntimeError)"
    ]
    assert_storable(info)


def test_a_failing_sd_parsers_outside_any_parser_is_caught_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedded, "read_with_sd_parsers", boom)
    info = read_embedded(NOVELAI.read_bytes())
    assert info.prompt
    assert info.notes == ["sd-parsers failed (RuntimeError)"]


def test_a_failing_reader_of_ours_leaves_sd_parsers_findings_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedded, "_info_from_embedded", boom)
    info = read_embedded(INVOKEAI.read_bytes())
    assert (info.generator, info.seed) == ("InvokeAI", 2980747362)
    assert info.notes == ["Draftroom's metadata reader failed (RuntimeError)"]


def test_fooocus_json_in_a_jpeg_user_comment_is_read_by_both() -> None:
    record = {
        "prompt": "a goldfish",
        "negative_prompt": "",
        "base_model": "juggernautXL",
        "base_model_hash": "abc",
        "sampler": "dpmpp_2m_sde_gpu",
        "seed": "42",
        "steps": 30,
        "guidance_scale": 4,
        "version": "Fooocus v2.4.3",
    }
    data = encode_jpeg(pattern_image((32, 32)), user_comment=json.dumps(record))
    info = read_embedded(data)
    assert (info.generator, info.model, info.seed) == ("Fooocus", "juggernautXL", 42)
    assert info.prompt == "a goldfish"
    assert info.sources == ["exif:UserComment", "exif:UserComment (sd-parsers)"]


def test_a_dream_line_over_its_limit_is_not_handed_to_sd_parsers() -> None:
    # sd-parsers' Dream pattern backtracks once per quote: quadratic in crafted input.
    dream = '"' + '"' * 50_000 + "\n -S 1"
    started = time.perf_counter()
    info = read_embedded(png_bytes(size=(8, 8), text={"Dream": dream}))
    assert time.perf_counter() - started < 2
    assert info.is_empty()
    assert info.notes == ["sd-parsers not tried on png:Dream: larger than its limit"]


def test_a_dream_line_within_its_limit_parses_quickly_however_crafted() -> None:
    dream = '"' + '"' * 3_900 + "\n -S 1"
    started = time.perf_counter()
    read_embedded(png_bytes(size=(8, 8), text={"Dream": dream}))
    assert time.perf_counter() - started < 2


def comfy_graph(samplers: int, chain: int) -> tuple[str, str]:
    """Many samplers all reaching back through one long conditioning chain: sd-parsers walks
    the whole chain again from every sampler, copying its path as it goes."""
    prompt: dict[str, Any] = {"0": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat"}}}
    links = []
    for n in range(1, chain + 1):
        prompt[str(n)] = {"class_type": "Cond", "inputs": {"conditioning": [str(n - 1), 0]}}
        links.append([len(links), n - 1, 0, n, 0, "CONDITIONING"])
    for n in range(chain + 1, chain + 1 + samplers):
        prompt[str(n)] = {
            "class_type": "KSampler",
            "inputs": {"sampler_name": "euler", "steps": 20, "cfg": 7, "seed": n,
                       "positive": [str(chain), 0], "negative": [str(chain), 0]},
        }  # fmt: skip
        links.append([len(links), chain, 0, n, 1, "CONDITIONING"])
        links.append([len(links), chain, 0, n, 2, "CONDITIONING"])
    return json.dumps(prompt), json.dumps({"nodes": [], "links": links})


@pytest.mark.parametrize(("samplers", "chain"), [(40, 180), (18, 310)])
def test_a_crafted_graph_within_the_work_limit_is_walked_in_about_a_second_at_most(
    samplers: int, chain: int
) -> None:
    prompt, workflow = comfy_graph(samplers=samplers, chain=chain)
    started = time.perf_counter()
    info = read_embedded(png_bytes(size=(8, 8), text={"prompt": prompt, "workflow": workflow}))
    assert time.perf_counter() - started < 3
    assert not info.notes
    assert len(info.passes) == min(samplers, 20)  # capped at 20
    assert info.passes[0].prompts == ["a cat"]


def test_a_graph_over_the_node_limit_is_left_to_our_reader_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ComfyUIParser, "parse", boom)  # must not even be called
    prompt, workflow = comfy_graph(samplers=10, chain=600)
    info = read_embedded(png_bytes(size=(8, 8), text={"prompt": prompt, "workflow": workflow}))
    assert info.generator == "ComfyUI"
    assert info.notes == [
        "sd-parsers not tried on png:prompt, png:workflow: graph larger than its limit"
    ]


def test_a_huge_automatic1111_text_is_ours_alone_and_raises_no_note() -> None:
    text = "a can, " * 50_000 + "\nSteps: 30, Sampler: Euler, CFG scale: 7, Seed: 5"
    info = read_embedded(png_bytes(size=(8, 8), text={"parameters": text}))
    assert info.seed == 5
    assert info.notes == []
