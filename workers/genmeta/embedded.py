"""Generation info stored inside a PNG, JPEG or WebP file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workers.genmeta.a1111 import looks_like_a1111, parse_a1111
from workers.genmeta.comfyui import parse_comfyui
from workers.genmeta.exif import exif_user_comment, from_exif, plain_description, xmp_description
from workers.genmeta.info import GenerationInfo, with_source
from workers.genmeta.sdparsers import read_with_sd_parsers
from workers.genmeta.sidecar import info_from_mapping
from workers.genmeta.values import as_int, cap, json_safe_dict, load_json
from workers.imaging import containers

_MAX_PNG_TEXT_BYTES = 8 * 1024 * 1024
_MAX_PNG_TEXT_TOTAL = 32 * 1024 * 1024
_XMP_PNG_KEY = "XML:com.adobe.xmp"


@dataclass
class _Embedded:
    texts: dict[str, str] = field(default_factory=dict)
    exif: bytes | None = None
    xmp: bytes | None = None
    comment: str = ""


def read_embedded(data: bytes) -> GenerationInfo:
    """Generation info stored inside a PNG, JPEG or WebP file; empty when there is none.

    Our readers and sd-parsers both read what the container walk found; where both have a
    value ours wins (its results are what drafts recorded so far), and sd-parsers fills the
    gaps. Either failing leaves the other's findings, with a note; nothing here raises.
    """
    try:
        if containers.is_png(data):
            embedded = _png_chunks(data)
        elif containers.is_jpeg(data):
            embedded = _jpeg_segments(data)
        elif containers.is_webp(data):
            embedded = _webp_chunks(data)
        else:
            return GenerationInfo()
    except Exception:  # metadata is optional; a container we cannot walk yields nothing
        return GenerationInfo()
    try:
        ours = _info_from_embedded(embedded)
    except Exception as exc:  # a bug or a crafted file must not cost sd-parsers' findings
        ours = GenerationInfo(notes=[f"Draftroom's metadata reader failed ({type(exc).__name__})"])
    try:
        theirs = _read_with_sd_parsers(embedded)
    except Exception as exc:  # the same the other way round
        theirs = GenerationInfo(notes=[f"sd-parsers failed ({type(exc).__name__})"])
    return combine(ours, theirs)


def combine(ours: GenerationInfo, theirs: GenerationInfo) -> GenerationInfo:
    """Ours where it has a value, sd-parsers' elsewhere, and sd-parsers' passes."""
    merged = ours.merged_with(theirs)
    # Parameters are each reader's own vocabulary ("CFG scale" vs "cfg_scale"): one set only.
    merged.parameters = ours.parameters or theirs.parameters
    filled_gap = bool(theirs.passes) or any(
        (not getattr(ours, name)) and getattr(theirs, name)
        for name in ("prompt", "negative_prompt", "generator", "model", "parameters")
    )
    if ours.seed is None and theirs.seed is not None:
        filled_gap = True
    if not filled_gap:
        merged.sources = list(ours.sources)
    return merged


def _read_with_sd_parsers(embedded: _Embedded) -> GenerationInfo:
    if embedded.texts:
        return read_with_sd_parsers(embedded.texts, {key: f"png:{key}" for key in embedded.texts})
    comment = exif_user_comment(embedded.exif) if embedded.exif else ""
    if comment.startswith("{"):
        # Fooocus' JSON record in the UserComment of its JPEG and WebP files.
        return read_with_sd_parsers({"parameters": comment}, {"parameters": "exif:UserComment"})
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
        findings.extend(from_exif(embedded.exif))
    if embedded.comment and looks_like_a1111(embedded.comment):
        findings.append(with_source(parse_a1111(embedded.comment), "jpeg:COM"))
    if embedded.xmp:
        description = xmp_description(embedded.xmp)
        if description:
            findings.append(with_source(GenerationInfo(prompt=description), "xmp:dc:description"))
    if texts.get("Description"):
        findings.append(plain_description(texts["Description"], "png:Description"))

    merged = GenerationInfo()
    for finding in findings:
        if not finding.is_empty():
            merged = merged.merged_with(finding)
    return merged


def _from_parameters_chunk(text: str) -> GenerationInfo:
    stripped = text.strip()
    # Fooocus and a few others store JSON under the same key A1111 uses.
    if stripped.startswith("{"):
        mapping = load_json(stripped)
        if isinstance(mapping, dict):
            return with_source(info_from_mapping(mapping), "png:parameters")
    return with_source(parse_a1111(text), "png:parameters")


def _from_novelai(texts: Mapping[str, str]) -> GenerationInfo:
    comment = load_json(texts.get("Comment"))
    if not isinstance(comment, dict) or not isinstance(comment.get("prompt"), str):
        return GenerationInfo()
    info = GenerationInfo(
        prompt=cap(comment["prompt"]),
        negative_prompt=cap(comment.get("uc", "") if isinstance(comment.get("uc"), str) else ""),
        generator=cap(texts.get("Software", "")),
        model=cap(texts.get("Source", "")),
        seed=as_int(comment.get("seed")),
        parameters=json_safe_dict(
            {k: v for k, v in comment.items() if k not in {"prompt", "uc"}}, scalars_only=True
        ),
    )
    return with_source(info, "png:Comment")


def _png_chunks(data: bytes) -> _Embedded:
    # Walking the chunks reads text that sits after the image data without decoding any
    # pixels, and lets every decompression be capped.
    embedded = _Embedded()
    total_text = 0
    for chunk in containers.png_chunks(data):
        if chunk.kind == b"eXIf":
            embedded.exif = embedded.exif or chunk.body
            continue
        parsed = containers.png_text(chunk, max_inflated=_MAX_PNG_TEXT_BYTES)
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


def _jpeg_segments(data: bytes) -> _Embedded:
    embedded = _Embedded()
    for segment in containers.jpeg_segments(data):
        if segment.kind == containers.JPEG_APP1:
            body = segment.body
            if body.startswith(containers.EXIF_APP1_HEADER):
                embedded.exif = embedded.exif or body
            elif body.startswith(containers.XMP_APP1_HEADER):
                embedded.xmp = embedded.xmp or body[len(containers.XMP_APP1_HEADER) :]
        elif segment.kind == containers.JPEG_COM and not embedded.comment:
            embedded.comment = containers.decode_text(segment.body.rstrip(b"\x00"))
    return embedded


def _webp_chunks(data: bytes) -> _Embedded:
    embedded = _Embedded()
    for chunk in containers.webp_chunks(data):
        if chunk.kind == b"EXIF":
            embedded.exif = embedded.exif or chunk.body
        elif chunk.kind == b"XMP ":
            embedded.xmp = embedded.xmp or chunk.body
    return embedded
