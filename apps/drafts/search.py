"""The search document of a draft and the grid's query language. Pure functions, no database.

A draft's generation text is flattened once, at intake, into ``Draft.search_document``: its
words, lower-cased and cut at anything that is not a letter or a digit, separated by single
spaces (with a space at both ends). Field values that the query language addresses by name
(model, LoRA, sampler, generator) are stored as *tagged* words, ``lora`` + word, so one
document (and, on PostgreSQL, one GIN index over it) answers every text filter, and a prompt
that merely mentions a LoRA's name is not taken for one.

Both databases answer the same question, "does every query word start a word of the
document": SQLite with ``contains(" " + word)`` on the stored text, PostgreSQL with a
``word:*`` prefix query against ``to_tsvector('simple', search_document)``. The ``simple``
configuration keeps words as they are (no stemming, no stop words), and the document holds only
letters and digits, so both sides cut the text into the same words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Letters and digits of any script; everything else (punctuation, underscores) separates words.
_WORD = re.compile(r"[^\W_]+")
# A1111 writes LoRAs into the prompt as <lora:name:weight> (LyCORIS as <lyco:...>).
_PROMPT_LORA = re.compile(r"<(?:lora|lyco):([^:>]+)", re.IGNORECASE)
_LORA_FILE_SUFFIX = re.compile(r"\.(safetensors|ckpt|pt|bin)$", re.IGNORECASE)
# Longest text a document keeps: a prompt is capped at intake already; this bounds the row.
DOCUMENT_MAX = 20_000

TAGS = ("model", "lora", "sampler", "gen")


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def lora_names(prompt: str, parameters: Mapping[str, Any]) -> list[str]:
    """LoRA names however the generator recorded them: ComfyUI's ``loras`` list, A1111's
    ``Lora hashes`` ("name: hash, …") and ``<lora:name:w>`` tags in the prompt."""
    names: list[str] = []
    listed = parameters.get("loras")
    if isinstance(listed, list):
        names += [str(item) for item in listed if isinstance(item, str)]
    hashes = parameters.get("Lora hashes")
    if isinstance(hashes, str):
        names += [part.split(":", 1)[0] for part in hashes.strip('"').split(",")]
    names += _PROMPT_LORA.findall(prompt or "")
    cleaned = []
    for name in names:
        base = _LORA_FILE_SUFFIX.sub("", name.strip().replace("\\", "/").rsplit("/", 1)[-1])
        if base and base not in cleaned:
            cleaned.append(base)
    return cleaned


def sampler_names(parameters: Mapping[str, Any]) -> list[str]:
    found = []
    for key, value in parameters.items():
        named = key.casefold() in ("sampler", "sampler_name", "schedule type", "scheduler")
        if named and isinstance(value, str) and value:
            found.append(value)
    return found


def search_document(
    *,
    prompt: str,
    negative_prompt: str,
    model_name: str,
    generator: str,
    parameters: Mapping[str, Any],
) -> str:
    parts: list[str] = words(prompt) + words(negative_prompt)
    tagged: Iterable[tuple[str, list[str]]] = (
        ("model", [model_name]),
        ("lora", lora_names(prompt, parameters)),
        ("sampler", sampler_names(parameters)),
        ("gen", [generator]),
    )
    for tag, values in tagged:
        for value in values:
            parts += [tag + w for w in words(value)]
    text = " ".join(parts)
    if len(text) > DOCUMENT_MAX:
        text = text[:DOCUMENT_MAX].rsplit(" ", 1)[0]  # never half a word
    return f" {text} " if text else ""


def prompt_key(*, prompt: str, negative_prompt: str, model_name: str) -> str:
    """Drafts generated from one prompt (with different seeds) share this key; the grid stacks
    them. Empty without a prompt: drafts that say nothing about their generation never stack."""
    if not words(prompt):
        return ""
    text = "\n".join(" ".join(words(t)) for t in (prompt, negative_prompt, model_name))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def search_fields(
    *,
    prompt: str,
    negative_prompt: str,
    model_name: str,
    generator: str,
    parameters: Mapping[str, Any],
) -> dict[str, str]:
    """The Draft columns derived from its generation text (intake and the migration)."""
    return {
        "search_document": search_document(
            prompt=prompt,
            negative_prompt=negative_prompt,
            model_name=model_name,
            generator=generator,
            parameters=parameters,
        ),
        "prompt_key": prompt_key(
            prompt=prompt, negative_prompt=negative_prompt, model_name=model_name
        ),
    }


# --- the query language ------------------------------------------------------------------------

FILTER_KEYS = (
    "seed",
    "model",
    "lora",
    "sampler",
    "gen",
    "by",
    "decision",
    "check",
    "after",
    "before",
)
DECISIONS = ("keep", "regenerate", "reject", "undecided", "awaiting")
_USERNAME = re.compile(r"[\w.@+-]{1,150}")
# "key:value" or key:"quoted value".
_TOKEN = re.compile(
    r'(?P<key>[a-z]+):(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))|"(?P<phrase>[^"]*)"|(?P<word>\S+)'
)


@dataclass
class Query:
    """A parsed search: free words (prompt and negative prompt) and named filters. ``problems``
    says what was not understood; the rest of the query still applies."""

    text: str = ""
    words: list[str] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)  # document words such as "lorafjell"
    seed: int | None = None
    by: str = ""
    decision: str = ""
    check: str = ""
    after: date | None = None
    before: date | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def document_words(self) -> list[str]:
        return self.words + self.tagged

    @property
    def is_empty(self) -> bool:
        return not (
            self.document_words
            or self.seed is not None
            or self.by
            or self.decision
            or self.check
            or self.after
            or self.before
        )


def parse_query(text: str, *, check_values: Iterable[str] = ()) -> Query:
    query = Query(text=(text or "").strip()[:500])
    checks = set(check_values)
    for match in _TOKEN.finditer(query.text):
        key = match.group("key")
        if key is None:
            query.words += words(match.group("phrase") or match.group("word") or "")
            continue
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        value = value or ""
        if key not in FILTER_KEYS:
            # Not a filter ("16:9", "note:"): the words are searched as they are.
            query.words += words(match.group(0))
        elif key in ("model", "lora", "sampler", "gen"):
            query.tagged += [key + w for w in words(value)]
        elif key == "seed":
            try:
                query.seed = int(value)
            except ValueError:
                query.problems.append(f"seed:{value} is not a number")
        elif key == "by":
            if _USERNAME.fullmatch(value.lstrip("@")):
                query.by = value.lstrip("@")
            else:
                query.problems.append(f"by:{value} is not a username")
        elif key == "decision":
            if value.casefold() in DECISIONS:
                query.decision = value.casefold()
            else:
                query.problems.append(f"decision:{value}: use one of {', '.join(DECISIONS)}")
        elif key == "check":
            if value.casefold() in checks:
                query.check = value.casefold()
            else:
                query.problems.append(f"check:{value}: use one of {', '.join(sorted(checks))}")
        else:  # after, before
            try:
                setattr(query, key, date.fromisoformat(value))
            except ValueError:
                query.problems.append(f"{key}:{value} is not a date (YYYY-MM-DD)")
    return query
