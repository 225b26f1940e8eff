"""Sidecar files next to an image: ``<stem>.json`` (our record format) and ``<stem>.txt``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from workers.genmeta.a1111 import parse_a1111
from workers.genmeta.info import GenerationInfo, with_source
from workers.genmeta.values import (
    MAX_LIST_ITEMS,
    as_int,
    cap,
    clean_text,
    json_safe_dict,
    load_json,
    text_field,
    unique,
)

SIDECAR_MAX_BYTES = 1024 * 1024

_SIDECAR_FIELDS = (
    "prompt",
    "negative_prompt",
    "generator",
    "model",
    "seed",
    "parameters",
    "references",
)


def read_sidecar(image_path: Path) -> GenerationInfo:
    """Info from ``<stem>.json`` / ``<stem>.txt`` next to the image; empty when there are none.

    ``<name>.json`` / ``<name>.txt`` (extension kept, e.g. ``a.png.json``) are accepted too.
    """
    try:
        image_path = Path(image_path)
        json_info = _first_sidecar(image_path, ".json", _json_sidecar)
        txt_info = _first_sidecar(image_path, ".txt", _txt_sidecar)
        return json_info.merged_with(txt_info)
    except Exception:  # a sidecar is optional; anything odd means "none"
        return GenerationInfo()


def _first_sidecar(
    image_path: Path, suffix: str, parse: Callable[[str], GenerationInfo]
) -> GenerationInfo:
    for candidate in (
        image_path.with_suffix(suffix),
        image_path.with_name(image_path.name + suffix),
    ):
        if candidate == image_path:
            continue
        text = _read_capped(candidate)
        if text is None:
            continue
        info = parse(text)
        if not info.is_empty():
            return with_source(info, f"sidecar:{candidate.name}")
    return GenerationInfo()


def _read_capped(path: Path) -> str | None:
    # Symlinks are skipped so that an unpacked archive cannot point a "sidecar" anywhere on disk.
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as handle:
        raw = handle.read(SIDECAR_MAX_BYTES + 1)
    if len(raw) > SIDECAR_MAX_BYTES:
        return None
    return raw.decode("utf-8-sig", "replace")


def _json_sidecar(text: str) -> GenerationInfo:
    mapping = load_json(text)
    if not isinstance(mapping, dict):
        return GenerationInfo()
    return info_from_mapping(mapping)


def _txt_sidecar(text: str) -> GenerationInfo:
    return parse_a1111(text)


def info_from_mapping(mapping: dict[str, Any]) -> GenerationInfo:
    parameters = mapping.get("parameters")
    extra = {k: v for k, v in mapping.items() if k not in _SIDECAR_FIELDS}
    references = mapping.get("references")
    return GenerationInfo(
        prompt=text_field(mapping.get("prompt")),
        negative_prompt=text_field(mapping.get("negative_prompt")),
        generator=text_field(mapping.get("generator")),
        model=text_field(mapping.get("model")),
        seed=as_int(mapping.get("seed")),
        parameters={
            **json_safe_dict(extra),
            **json_safe_dict(parameters if isinstance(parameters, dict) else {}),
        },
        references=unique(
            [cap(clean_text(r)) for r in references if isinstance(r, str) and r.strip()]
            if isinstance(references, list)
            else []
        )[:MAX_LIST_ITEMS],
    )
