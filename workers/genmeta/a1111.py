"""Automatic1111's ``parameters`` text (also written by Forge, SD.Next and others)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from workers.genmeta.info import GENERATOR_A1111, GenerationInfo
from workers.genmeta.values import INT_PATTERN, MAX_PARAMETERS, cap, clean_text

# The pattern A1111 itself uses to split its "Key: value, ..." line; quoted values may contain
# commas and backslash escapes.
_A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_A1111_KNOWN_KEYS = frozenset({"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model"})
_NEGATIVE_PREFIX = "Negative prompt:"
_FLOAT = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def parse_a1111(text: str) -> GenerationInfo:
    """Parse the Automatic1111 ``parameters`` text (also used by Forge, SD.Next, ...).

    Text without a recognisable settings line is treated as a plain prompt.
    """
    try:
        return _parse_a1111(text)
    except Exception:  # hostile text yields nothing rather than an error
        return GenerationInfo()


def _parse_a1111(text: str) -> GenerationInfo:
    lines = clean_text(text).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    pairs = _a1111_pairs(lines[-1]) if lines else []
    if pairs:
        lines = lines[:-1]

    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    in_negative = False
    for line in lines:
        if not in_negative and line.startswith(_NEGATIVE_PREFIX):
            in_negative = True
            line = line[len(_NEGATIVE_PREFIX) :].lstrip()
        (negative_lines if in_negative else prompt_lines).append(line)

    info = GenerationInfo(
        prompt=cap("\n".join(prompt_lines).strip()),
        negative_prompt=cap("\n".join(negative_lines).strip()),
    )
    if not pairs:
        return info

    info.generator = GENERATOR_A1111
    for key, raw_value in pairs[:MAX_PARAMETERS]:
        value = _a1111_value(key, raw_value)
        info.parameters[key] = value
        if key == "Seed" and isinstance(value, int):
            info.seed = value
        elif key == "Model" and isinstance(value, str):
            info.model = cap(value)
    return info


def _a1111_pairs(line: str) -> list[tuple[str, str]]:
    pairs = [(m.group(1).strip(), m.group(2).strip()) for m in _A1111_PAIR.finditer(line)]
    # Requiring a key A1111 always writes keeps prose such as "style: noir, mood: calm,
    # light: soft" in the prompt instead of mistaking it for settings.
    if len(pairs) >= 3 and any(key in _A1111_KNOWN_KEYS for key, _ in pairs):
        return pairs
    return []


def _a1111_value(key: str, raw: str) -> Any:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            unquoted = json.loads(raw)
        except ValueError:
            unquoted = raw
        return cap(unquoted) if isinstance(unquoted, str) else raw
    # Hashes are identifiers even when they happen to be all digits.
    if "hash" in key.lower():
        return cap(raw)
    return _number_or_text(raw)


def _number_or_text(raw: str) -> Any:
    if INT_PATTERN.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        number = float(raw)
        if math.isfinite(number):
            return number
    return cap(raw)


def looks_like_a1111(text: str) -> bool:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return bool(_a1111_pairs(lines[-1]))
