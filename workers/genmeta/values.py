"""Scrubbing and capping what the readers return: every value must fit a JSON or text column.

Generation metadata comes from uploaded files, so every reader treats it as hostile. These caps
are Draftroom's own and apply to whatever any parser (ours or sd-parsers) found.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Long enough for any real prompt or workflow value, short enough that a crafted file cannot
# push megabytes into a text column.
MAX_TEXT_CHARS = 20_000
MAX_PARAMETERS = 200
MAX_NESTING = 4
MAX_LIST_ITEMS = 100

INT_PATTERN = re.compile(r"-?(?:0|[1-9]\d*)")


def load_json(text: str | None) -> Any:
    if not text or not isinstance(text, str):
        return None
    try:
        # NaN/Infinity are valid for Python's parser but not for JSON columns; drop them.
        return json.loads(text, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError):
        return None


def text_field(value: Any) -> str:
    return cap(clean_text(value).strip()) if isinstance(value, str) else ""


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and INT_PATTERN.fullmatch(value.strip()):
        return int(value.strip())
    return None


def clean_text(text: str) -> str:
    # NUL cannot be stored in PostgreSQL text and lone surrogates cannot be encoded as UTF-8.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def cap(text: str) -> str:
    return clean_text(text)[:MAX_TEXT_CHARS]


def json_safe(value: Any, depth: int, scalars_only: bool = False) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return cap(value)
    if scalars_only or depth >= MAX_NESTING:
        return None
    if isinstance(value, (list, tuple)):
        return [json_safe(item, depth + 1) for item in value[:MAX_LIST_ITEMS]]
    if isinstance(value, dict):
        return json_safe_dict(value, depth + 1)
    return None


def json_safe_dict(
    mapping: Mapping[Any, Any], depth: int = 0, scalars_only: bool = False
) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in list(mapping.items())[:MAX_PARAMETERS]:
        cleaned = json_safe(value, depth, scalars_only)
        if cleaned is not None or value is None:
            safe[cap(str(key))] = cleaned
    return safe


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
