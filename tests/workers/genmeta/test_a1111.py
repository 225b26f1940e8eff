"""Automatic1111's parameters text."""

from __future__ import annotations

from tests.workers.genmeta.builders import A1111_TEXT, assert_storable
from workers.genmeta import parse_a1111


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
