"""Generation metadata (prompt, model, seed, ...) from image files and their sidecars.

Every reader here treats its input as hostile: bad data yields an empty :class:`GenerationInfo`,
never an exception, and everything returned is plain JSON-safe data that a database can store.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DefusedET
from PIL import Image

GENERATOR_A1111 = "Automatic1111"
GENERATOR_COMFYUI = "ComfyUI"

SIDECAR_MAX_BYTES = 1024 * 1024

# Long enough for any real prompt or workflow value, short enough that a crafted file cannot
# push megabytes into a text column.
_MAX_TEXT_CHARS = 20_000
_MAX_PARAMETERS = 200
_MAX_NESTING = 4
_MAX_LIST_ITEMS = 100
_MAX_PNG_TEXT_BYTES = 8 * 1024 * 1024
_MAX_PNG_TEXT_TOTAL = 32 * 1024 * 1024
_MAX_XMP_BYTES = 2 * 1024 * 1024
_MAX_GRAPH_DEPTH = 32
_MAX_GRAPH_STEPS = 5_000
_MAX_SAMPLERS_TRIED = 20


@dataclass
class GenerationInfo:
    prompt: str = ""
    negative_prompt: str = ""
    generator: str = ""
    model: str = ""
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when nothing about the generation is known (``sources`` alone does not count)."""
        return not (
            self.prompt
            or self.negative_prompt
            or self.generator
            or self.model
            or self.seed is not None
            or self.parameters
            or self.references
        )

    def merged_with(self, other: GenerationInfo) -> GenerationInfo:
        """Combine two findings; wherever ``self`` has a value it wins."""
        return GenerationInfo(
            prompt=self.prompt or other.prompt,
            negative_prompt=self.negative_prompt or other.negative_prompt,
            generator=self.generator or other.generator,
            model=self.model or other.model,
            seed=self.seed if self.seed is not None else other.seed,
            parameters={**other.parameters, **self.parameters},
            references=_unique([*self.references, *other.references]),
            sources=_unique([*self.sources, *other.sources]),
        )


# --- Automatic1111 ---------------------------------------------------------------------------

# The pattern A1111 itself uses to split its "Key: value, ..." line; quoted values may contain
# commas and backslash escapes.
_A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_A1111_KNOWN_KEYS = frozenset({"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model"})
_NEGATIVE_PREFIX = "Negative prompt:"
_INT = re.compile(r"-?(?:0|[1-9]\d*)")
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
    lines = _clean_text(text).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
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
        prompt=_cap("\n".join(prompt_lines).strip()),
        negative_prompt=_cap("\n".join(negative_lines).strip()),
    )
    if not pairs:
        return info

    info.generator = GENERATOR_A1111
    for key, raw_value in pairs[:_MAX_PARAMETERS]:
        value = _a1111_value(key, raw_value)
        info.parameters[key] = value
        if key == "Seed" and isinstance(value, int):
            info.seed = value
        elif key == "Model" and isinstance(value, str):
            info.model = _cap(value)
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
        return _cap(unquoted) if isinstance(unquoted, str) else raw
    # Hashes are identifiers even when they happen to be all digits.
    if "hash" in key.lower():
        return _cap(raw)
    return _number_or_text(raw)


def _number_or_text(raw: str) -> Any:
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        number = float(raw)
        if math.isfinite(number):
            return number
    return _cap(raw)


def _looks_like_a1111(text: str) -> bool:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return bool(_a1111_pairs(lines[-1]))


# --- ComfyUI ---------------------------------------------------------------------------------

_SAMPLER_TYPES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
# SamplerCustomAdvanced spreads its settings over small helper nodes (RandomNoise, CFGGuider,
# KSamplerSelect, BasicScheduler); their inputs are read as if they were the sampler's own.
_SAMPLER_HELPER_INPUTS = ("noise", "guider", "sampler", "sigmas")
_SAMPLER_PARAMETERS = ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")
_TEXT_INPUTS = ("text", "text_g", "text_l", "string", "value", "prompt")
_MODEL_FILE_INPUTS = ("ckpt_name", "unet_name", "model_name")

# Widget order of the common nodes in the UI ("workflow") format, which stores values
# positionally; used only when the API ("prompt") graph is missing.
_UI_WIDGETS: dict[str, tuple[str, ...]] = {
    "KSampler": (
        "seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "denoise",
    ),
    "KSamplerAdvanced": (
        "add_noise",
        "noise_seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "start_at_step",
        "end_at_step",
        "return_with_leftover_noise",
    ),
    "CLIPTextEncode": ("text",),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "LoadImage": ("image", "upload"),
    "RandomNoise": ("noise_seed", "control_after_generate"),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "CFGGuider": ("cfg",),
    "PrimitiveNode": ("value",),
}

Graph = dict[str, dict[str, Any]]


def parse_comfyui(prompt_json: str | None, workflow_json: str | None) -> GenerationInfo:
    """Read a ComfyUI API graph (``prompt``), falling back to the UI graph (``workflow``)."""
    try:
        graph = _api_graph(_load_json(prompt_json))
        info = _info_from_graph(graph) if graph else None
        if info is None or not (info.prompt or info.parameters):
            ui_graph = _ui_to_api_graph(_load_json(workflow_json))
            ui_info = _info_from_graph(ui_graph) if ui_graph else None
            if ui_info is not None:
                info = ui_info if info is None else info.merged_with(ui_info)
        return info if info is not None else GenerationInfo()
    except Exception:  # a hostile graph yields nothing rather than an error
        return GenerationInfo()


def _api_graph(data: Any) -> Graph | None:
    if not isinstance(data, dict):
        return None
    graph = {
        str(node_id): node
        for node_id, node in data.items()
        if isinstance(node, dict) and isinstance(node.get("class_type"), str)
    }
    for node in graph.values():
        if not isinstance(node.get("inputs"), dict):
            node["inputs"] = {}
    return graph or None


def _ui_to_api_graph(data: Any) -> Graph | None:
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return None
    link_sources: dict[Any, list[Any]] = {}
    for link in data.get("links") or []:
        if isinstance(link, list) and len(link) >= 3:
            link_sources[link[0]] = [str(link[1]), link[2]]
        elif isinstance(link, dict) and "id" in link:
            link_sources[link["id"]] = [str(link.get("origin_id")), link.get("origin_slot", 0)]

    graph: Graph = {}
    for node in data["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue
        inputs: dict[str, Any] = {}
        widgets = node.get("widgets_values")
        if isinstance(widgets, dict):
            inputs.update(widgets)
        elif isinstance(widgets, list):
            inputs.update(zip(_UI_WIDGETS.get(node["type"], ()), widgets, strict=False))
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and isinstance(slot.get("name"), str):
                source = link_sources.get(slot.get("link"))
                if source is not None:
                    inputs[slot["name"]] = source
        graph[str(node.get("id"))] = {"class_type": node["type"], "inputs": inputs}
    return graph or None


def _info_from_graph(graph: Graph) -> GenerationInfo:
    info = GenerationInfo(generator=GENERATOR_COMFYUI)
    resolver = _TextResolver(graph)
    sampler = _pick_sampler(graph, resolver)
    if sampler is not None:
        inputs = _sampler_inputs(graph, sampler)
        positive = inputs.get("positive", inputs.get("conditioning"))
        info.prompt = _cap(resolver.text(positive))
        info.negative_prompt = _cap(resolver.text(inputs.get("negative")))
        for name in _SAMPLER_PARAMETERS:
            key = "noise_seed" if name == "seed" and "seed" not in inputs else name
            value = _resolve_scalar(graph, inputs.get(key), 0)
            if value is not None:
                info.parameters[name] = value
        seed = info.parameters.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            info.seed = seed
        loras: list[str] = []
        info.model = _cap(_resolve_model(graph, inputs.get("model"), loras, 0))
        if loras:
            info.parameters["loras"] = loras[:_MAX_LIST_ITEMS]
    if not info.model:
        info.model = _cap(_first_model_file(graph))
    info.references = [
        _cap(node["inputs"]["image"])
        for _, node in _sorted_nodes(graph)
        if node["class_type"] == "LoadImage" and isinstance(node["inputs"].get("image"), str)
    ][:_MAX_LIST_ITEMS]
    return info


def _sorted_nodes(graph: Graph) -> list[tuple[str, dict[str, Any]]]:
    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        node_id = item[0]
        return (int(node_id), "") if node_id.isdigit() else (1 << 62, node_id)

    return sorted(graph.items(), key=order)


def _pick_sampler(graph: Graph, resolver: _TextResolver) -> dict[str, Any] | None:
    samplers = [node for _, node in _sorted_nodes(graph) if node["class_type"] in _SAMPLER_TYPES]
    # A hires-fix graph has several samplers; the first one that has a readable prompt is the
    # one that set the composition.
    for node in samplers[:_MAX_SAMPLERS_TRIED]:
        inputs = _sampler_inputs(graph, node)
        if resolver.text(inputs.get("positive", inputs.get("conditioning"))):
            return node
    return samplers[0] if samplers else None


def _sampler_inputs(graph: Graph, sampler: dict[str, Any]) -> dict[str, Any]:
    inputs = dict(sampler["inputs"])
    for link_name in _SAMPLER_HELPER_INPUTS:
        helper = _linked_node(graph, sampler["inputs"].get(link_name))
        if helper is not None:
            for key, value in helper["inputs"].items():
                inputs.setdefault(key, value)
    return inputs


def _is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
    )


def _linked_node(graph: Graph, value: Any) -> dict[str, Any] | None:
    if not _is_link(value):
        return None
    return graph.get(str(value[0]))


class _TextResolver:
    """Follows conditioning links back to prompt text.

    Memoised and budgeted: a crafted graph whose branches keep converging on the same nodes
    would otherwise make the walk exponential.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.memo: dict[tuple[str, int], str] = {}
        self.steps_left = _MAX_GRAPH_STEPS

    def text(self, value: Any) -> str:
        return self._resolve(value, 0, frozenset())

    def _resolve(self, value: Any, depth: int, seen: frozenset[str]) -> str:
        if isinstance(value, str):
            return value
        if depth > _MAX_GRAPH_DEPTH or not _is_link(value):
            return ""
        node_id, slot = str(value[0]), int(value[1])
        if (node_id, slot) in self.memo:
            return self.memo[(node_id, slot)]
        node = self.graph.get(node_id)
        if node is None or node_id in seen or self.steps_left <= 0:
            return ""
        self.steps_left -= 1
        result = self._from_node(node["inputs"], slot, depth + 1, seen | {node_id})
        self.memo[(node_id, slot)] = result
        return result

    def _from_node(
        self, inputs: dict[str, Any], slot: int, depth: int, seen: frozenset[str]
    ) -> str:
        for key in _TEXT_INPUTS:
            if key in inputs:
                text = self._resolve(inputs[key], depth, seen)
                if text:
                    return text
        # Nodes such as ControlNetApplyAdvanced pass both conditionings through; the output
        # slot says which one this link carries.
        if "positive" in inputs and "negative" in inputs:
            return self._resolve(inputs["negative" if slot == 1 else "positive"], depth, seen)
        texts = [
            self._resolve(inputs[key], depth, seen)
            for key in sorted(inputs)
            if key.startswith("conditioning") or key == "positive"
        ]
        return "\n".join(_unique([text for text in texts if text]))


def _resolve_scalar(graph: Graph, value: Any, depth: int) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return _json_safe(value, 0)
    node = _linked_node(graph, value)
    if node is None or depth > _MAX_GRAPH_DEPTH:
        return None
    inputs = node["inputs"]
    for key in ("value", "seed", "noise_seed", "int", "float", "number", "string", "text"):
        if key in inputs:
            return _resolve_scalar(graph, inputs[key], depth + 1)
    return None


def _resolve_model(graph: Graph, value: Any, loras: list[str], depth: int) -> str:
    node = _linked_node(graph, value)
    if node is None or depth > _MAX_GRAPH_DEPTH:
        return ""
    inputs = node["inputs"]
    for key in _MODEL_FILE_INPUTS:
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    if isinstance(inputs.get("lora_name"), str):
        loras.append(_cap(inputs["lora_name"]))
    return _resolve_model(graph, inputs.get("model"), loras, depth + 1)


def _first_model_file(graph: Graph) -> str:
    for _, node in _sorted_nodes(graph):
        for key in _MODEL_FILE_INPUTS:
            if isinstance(node["inputs"].get(key), str):
                return str(node["inputs"][key])
    return ""


# --- embedded metadata -----------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_PNG_KEY = "XML:com.adobe.xmp"
_NS_DC = "{http://purl.org/dc/elements/1.1/}"
_NS_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_TAG_IMAGE_DESCRIPTION = 0x010E
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_EXIF_IFD = 0x8769
_TAG_USER_COMMENT = 0x9286

# Descriptions cameras write by default; they describe nothing and must not pose as a prompt.
_PLACEHOLDER_DESCRIPTIONS = frozenset(
    {"", "olympus digital camera", "sony dsc", "digital camera", "default", "image", "picture"}
)


@dataclass
class _Embedded:
    texts: dict[str, str] = field(default_factory=dict)
    exif: bytes | None = None
    xmp: bytes | None = None
    comment: str = ""


def read_embedded(data: bytes) -> GenerationInfo:
    """Generation info stored inside a PNG, JPEG or WebP file; empty when there is none."""
    try:
        if data.startswith(_PNG_SIGNATURE):
            embedded = _png_chunks(data)
        elif data.startswith(b"\xff\xd8"):
            embedded = _jpeg_segments(data)
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            embedded = _webp_chunks(data)
        else:
            return GenerationInfo()
        return _info_from_embedded(embedded)
    except Exception:  # metadata is optional; hostile files yield nothing
        return GenerationInfo()


def _info_from_embedded(embedded: _Embedded) -> GenerationInfo:
    # Ordered by trust: a generator's own structured record beats a free-text description.
    findings: list[GenerationInfo] = []
    texts = embedded.texts
    if texts.get("parameters"):
        findings.append(_from_parameters_chunk(texts["parameters"]))
    if texts.get("prompt") or texts.get("workflow"):
        comfy = parse_comfyui(texts.get("prompt"), texts.get("workflow"))
        comfy.sources = [f"png:{key}" for key in ("prompt", "workflow") if texts.get(key)]
        findings.append(comfy)
    if texts.get("Comment"):
        findings.append(_from_novelai(texts))
    if embedded.exif:
        findings.extend(_from_exif(embedded.exif))
    if embedded.comment and _looks_like_a1111(embedded.comment):
        findings.append(_with_source(parse_a1111(embedded.comment), "jpeg:COM"))
    if embedded.xmp:
        description = _xmp_description(embedded.xmp)
        if description:
            findings.append(_with_source(GenerationInfo(prompt=description), "xmp:dc:description"))
    if texts.get("Description"):
        findings.append(_plain_description(texts["Description"], "png:Description"))

    merged = GenerationInfo()
    for finding in findings:
        if not finding.is_empty():
            merged = merged.merged_with(finding)
    return merged


def _from_parameters_chunk(text: str) -> GenerationInfo:
    stripped = text.strip()
    # Fooocus and a few others store JSON under the same key A1111 uses.
    if stripped.startswith("{"):
        mapping = _load_json(stripped)
        if isinstance(mapping, dict):
            return _with_source(_info_from_mapping(mapping), "png:parameters")
    return _with_source(parse_a1111(text), "png:parameters")


def _from_novelai(texts: Mapping[str, str]) -> GenerationInfo:
    comment = _load_json(texts.get("Comment"))
    if not isinstance(comment, dict) or not isinstance(comment.get("prompt"), str):
        return GenerationInfo()
    info = GenerationInfo(
        prompt=_cap(comment["prompt"]),
        negative_prompt=_cap(comment.get("uc", "") if isinstance(comment.get("uc"), str) else ""),
        generator=_cap(texts.get("Software", "")),
        model=_cap(texts.get("Source", "")),
        seed=_as_int(comment.get("seed")),
        parameters=_json_safe_dict(
            {k: v for k, v in comment.items() if k not in {"prompt", "uc"}}, scalars_only=True
        ),
    )
    return _with_source(info, "png:Comment")


def _from_exif(raw: bytes) -> list[GenerationInfo]:
    # Pillow warns about every oddity in a damaged EXIF block; for uploads that is expected
    # noise, and what can be read is still used.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exif = Image.Exif()
        exif.load(raw)
        try:
            user_comment = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_USER_COMMENT)
        except Exception:  # a broken sub-IFD still leaves the main IFD readable
            user_comment = None
    findings: list[GenerationInfo] = []

    comment = _decode_user_comment(user_comment)
    if comment:
        if _looks_like_a1111(comment):
            findings.append(_with_source(parse_a1111(comment), "exif:UserComment"))
        else:
            findings.append(_plain_description(comment, "exif:UserComment"))

    # ComfyUI's WebP/animated savers write "prompt:{json}" / "workflow:{json}" into these tags.
    graphs: dict[str, str] = {}
    graph_sources: list[str] = []
    for tag, tag_name in ((_TAG_MODEL, "Model"), (_TAG_MAKE, "Make")):
        prefix, _, payload = _exif_text(exif.get(tag)).partition(":")
        if prefix.lower() in {"prompt", "workflow"} and payload.lstrip().startswith("{"):
            graphs[prefix.lower()] = payload
            graph_sources.append(f"exif:{tag_name}")
    if graphs:
        comfy = parse_comfyui(graphs.get("prompt"), graphs.get("workflow"))
        comfy.sources = graph_sources if not comfy.is_empty() else []
        findings.append(comfy)

    description = _exif_text(exif.get(_TAG_IMAGE_DESCRIPTION))
    if description:
        if _looks_like_a1111(description):
            findings.append(_with_source(parse_a1111(description), "exif:ImageDescription"))
        else:
            findings.append(_plain_description(description, "exif:ImageDescription"))
    return findings


def _plain_description(text: str, source: str) -> GenerationInfo:
    text = _clean_text(text).strip()
    if text.lower() in _PLACEHOLDER_DESCRIPTIONS:
        return GenerationInfo()
    return GenerationInfo(prompt=_cap(text), sources=[source])


def _exif_text(value: Any) -> str:
    if isinstance(value, bytes):
        return _decode_bytes(value.rstrip(b"\x00"))
    if isinstance(value, str):
        text: str = value
        # Pillow decodes EXIF ASCII as Latin-1, but most writers put UTF-8 there.
        with contextlib.suppress(UnicodeError):
            text = text.encode("latin-1").decode("utf-8")
        return text.rstrip("\x00").strip()
    return ""


def _decode_user_comment(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("latin-1", "replace")
    if isinstance(value, tuple) and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        value = bytes(value)
    if not isinstance(value, bytes):
        return ""
    header, body = value[:8], value[8:]
    if header == b"UNICODE\x00":
        text = _decode_utf16(body)
    elif header.startswith(b"ASCII"):
        text = _decode_bytes(body)
    elif header.startswith(b"JIS"):
        text = body.decode("shift_jis", "replace")
    elif header == b"\x00" * 8:
        text = _decode_bytes(body)
    else:
        # No charset header at all; some writers skip it.
        text = _decode_bytes(value)
    return text.replace("\x00", "").strip()


def _decode_utf16(body: bytes) -> str:
    if body.startswith(b"\xfe\xff"):
        return body[2:].decode("utf-16-be", "replace")
    if body.startswith(b"\xff\xfe"):
        return body[2:].decode("utf-16-le", "replace")
    # The EXIF spec leaves the byte order to the writer (A1111 uses big-endian). Mostly-ASCII
    # text has its zero bytes on the high side, which gives the order away.
    even_zeros = body[0::2].count(0)
    odd_zeros = body[1::2].count(0)
    codec = "utf-16-be" if even_zeros > odd_zeros else "utf-16-le"
    return body[: len(body) - len(body) % 2].decode(codec, "replace")


def _decode_bytes(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _xmp_description(xmp: bytes) -> str:
    if len(xmp) > _MAX_XMP_BYTES:
        return ""
    try:
        # defusedxml refuses DTDs and entities, closing off billion-laughs and XXE tricks.
        root = DefusedET.fromstring(xmp.strip(b"\x00 \r\n\t"), forbid_dtd=True)
    except Exception:  # malformed or hostile XMP is simply ignored
        return ""
    for description in root.iter(f"{_NS_DC}description"):
        items = list(description.iter(f"{_NS_RDF}li"))
        preferred = [li for li in items if li.get(_XML_LANG) == "x-default"] + items
        for li in preferred:
            if li.text and li.text.strip():
                return _cap(_clean_text(li.text).strip())
        if description.text and description.text.strip():
            return _cap(_clean_text(description.text).strip())
    return ""


def _png_chunks(data: bytes) -> _Embedded:
    # A hand-rolled walk reads text chunks that sit after the image data without decoding any
    # pixels, and lets every decompression be capped.
    embedded = _Embedded()
    total_text = 0
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, chunk_type = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length or chunk_type == b"IEND":
            break
        pos += 12 + length
        if chunk_type == b"eXIf":
            embedded.exif = embedded.exif or body
            continue
        if chunk_type not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        parsed = _png_text(chunk_type, body)
        if parsed is None:
            continue
        key, value = parsed
        total_text += len(value)
        if total_text > _MAX_PNG_TEXT_TOTAL:
            break
        if key == _XMP_PNG_KEY:
            embedded.xmp = embedded.xmp or value.encode("utf-8")
        else:
            embedded.texts.setdefault(key, value)
    return embedded


def _png_text(chunk_type: bytes, body: bytes) -> tuple[str, str] | None:
    raw_key, separator, rest = body.partition(b"\x00")
    if not separator or not raw_key:
        return None
    key = raw_key.decode("latin-1")
    if chunk_type == b"tEXt":
        # The PNG spec says Latin-1, but several generators write UTF-8 into tEXt.
        return key, _decode_bytes(rest)
    if chunk_type == b"zTXt":
        inflated = _inflate(rest[1:]) if rest[:1] == b"\x00" else None
        return None if inflated is None else (key, _decode_bytes(inflated))
    if len(rest) < 2:
        return None
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated_key, _, text = rest.partition(b"\x00")
    if compressed:
        inflated = _inflate(text) if method == 0 else None
        if inflated is None:
            return None
        text = inflated
    return key, text.decode("utf-8", "replace")


def _inflate(compressed: bytes) -> bytes | None:
    decompressor = zlib.decompressobj()
    try:
        inflated = decompressor.decompress(compressed, _MAX_PNG_TEXT_BYTES)
    except zlib.error:
        return None
    if decompressor.unconsumed_tail:
        return None
    return inflated


def _jpeg_segments(data: bytes) -> _Embedded:
    embedded = _Embedded()
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            break
        segment = data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            embedded.exif = embedded.exif or segment
        elif marker == 0xE1 and segment.startswith(_XMP_JPEG_HEADER):
            embedded.xmp = embedded.xmp or segment[len(_XMP_JPEG_HEADER) :]
        elif marker == 0xFE and not embedded.comment:
            embedded.comment = _decode_bytes(segment.rstrip(b"\x00"))
    return embedded


def _webp_chunks(data: bytes) -> _Embedded:
    embedded = _Embedded()
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if len(body) < size:
            break
        pos += 8 + size + (size & 1)
        if fourcc == b"EXIF":
            embedded.exif = embedded.exif or body
        elif fourcc == b"XMP ":
            embedded.xmp = embedded.xmp or body
    return embedded


# --- sidecars --------------------------------------------------------------------------------

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
            return _with_source(info, f"sidecar:{candidate.name}")
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
    mapping = _load_json(text)
    if not isinstance(mapping, dict):
        return GenerationInfo()
    return _info_from_mapping(mapping)


def _txt_sidecar(text: str) -> GenerationInfo:
    return parse_a1111(text)


def _info_from_mapping(mapping: dict[str, Any]) -> GenerationInfo:
    parameters = mapping.get("parameters")
    extra = {k: v for k, v in mapping.items() if k not in _SIDECAR_FIELDS}
    references = mapping.get("references")
    return GenerationInfo(
        prompt=_text_field(mapping.get("prompt")),
        negative_prompt=_text_field(mapping.get("negative_prompt")),
        generator=_text_field(mapping.get("generator")),
        model=_text_field(mapping.get("model")),
        seed=_as_int(mapping.get("seed")),
        parameters={
            **_json_safe_dict(extra),
            **_json_safe_dict(parameters if isinstance(parameters, dict) else {}),
        },
        references=_unique(
            [_cap(_clean_text(r)) for r in references if isinstance(r, str) and r.strip()]
            if isinstance(references, list)
            else []
        )[:_MAX_LIST_ITEMS],
    )


# --- shared helpers --------------------------------------------------------------------------


def _with_source(info: GenerationInfo, source: str) -> GenerationInfo:
    if not info.is_empty() and source not in info.sources:
        info.sources.append(source)
    return info


def _load_json(text: str | None) -> Any:
    if not text or not isinstance(text, str):
        return None
    try:
        # NaN/Infinity are valid for Python's parser but not for JSON columns; drop them.
        return json.loads(text, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError):
        return None


def _text_field(value: Any) -> str:
    return _cap(_clean_text(value).strip()) if isinstance(value, str) else ""


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _clean_text(text: str) -> str:
    # NUL cannot be stored in PostgreSQL text and lone surrogates cannot be encoded as UTF-8.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _cap(text: str) -> str:
    return _clean_text(text)[:_MAX_TEXT_CHARS]


def _json_safe(value: Any, depth: int, scalars_only: bool = False) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _cap(value)
    if scalars_only or depth >= _MAX_NESTING:
        return None
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, depth + 1) for item in value[:_MAX_LIST_ITEMS]]
    if isinstance(value, dict):
        return _json_safe_dict(value, depth + 1)
    return None


def _json_safe_dict(
    mapping: Mapping[Any, Any], depth: int = 0, scalars_only: bool = False
) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in list(mapping.items())[:_MAX_PARAMETERS]:
        cleaned = _json_safe(value, depth, scalars_only)
        if cleaned is not None or value is None:
            safe[_cap(str(key))] = cleaned
    return safe


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
