"""Sidecar files next to an image."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.images import png_bytes
from tests.workers.genmeta.builders import A1111_TEXT
from workers.genmeta import SIDECAR_MAX_BYTES, GenerationInfo, read_sidecar


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
