"""Generation metadata (prompt, model, seed, ...) from image files and their sidecars.

Every reader here treats its input as hostile: bad data yields an empty :class:`GenerationInfo`,
never an exception, and everything returned is plain JSON-safe data that a database can store.

- ``embedded``: what a PNG, JPEG or WebP file carries (text chunks, EXIF, XMP, JPEG comments).
- ``a1111``, ``comfyui``, ``exif``: our readers for each source inside a file.
- ``sidecar``: ``<stem>.json`` / ``<stem>.txt`` files next to an image.
- ``sdparsers``: sd-parsers (PyPI) for InvokeAI, NovelAI, Fooocus and multi-pass ComfyUI graphs.
- ``values``: the caps and scrubbing every returned value goes through.
"""

from workers.genmeta.a1111 import parse_a1111
from workers.genmeta.comfyui import parse_comfyui
from workers.genmeta.embedded import read_embedded
from workers.genmeta.info import (
    GENERATOR_A1111,
    GENERATOR_COMFYUI,
    GENERATOR_FOOOCUS,
    GENERATOR_INVOKEAI,
    GENERATOR_NOVELAI,
    GenerationInfo,
    GenerationPass,
)
from workers.genmeta.sidecar import SIDECAR_MAX_BYTES, read_sidecar

__all__ = [
    "GENERATOR_A1111",
    "GENERATOR_COMFYUI",
    "GENERATOR_FOOOCUS",
    "GENERATOR_INVOKEAI",
    "GENERATOR_NOVELAI",
    "SIDECAR_MAX_BYTES",
    "GenerationInfo",
    "GenerationPass",
    "parse_a1111",
    "parse_comfyui",
    "read_embedded",
    "read_sidecar",
]
