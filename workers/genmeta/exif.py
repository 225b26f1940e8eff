"""EXIF (UserComment, ImageDescription, ComfyUI's Make/Model tags) and XMP descriptions."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import defusedxml.ElementTree as DefusedET
from PIL import Image

from workers.genmeta.a1111 import looks_like_a1111, parse_a1111
from workers.genmeta.comfyui import parse_comfyui
from workers.genmeta.info import GenerationInfo, with_source
from workers.genmeta.sidecar import info_from_mapping
from workers.genmeta.values import cap, clean_text, load_json
from workers.imaging.containers import decode_text

MAX_XMP_BYTES = 2 * 1024 * 1024

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


def exif_user_comment(raw: bytes) -> str:
    """The EXIF UserComment as text, whatever charset header it carries; "" when absent."""
    return _decode_user_comment(_load_exif(raw)[1])


def _load_exif(raw: bytes) -> tuple[Image.Exif, Any]:
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
    return exif, user_comment


def from_exif(raw: bytes) -> list[GenerationInfo]:
    exif, user_comment = _load_exif(raw)
    findings: list[GenerationInfo] = []

    comment = _decode_user_comment(user_comment)
    if comment:
        mapping = load_json(comment) if comment.startswith("{") else None
        if isinstance(mapping, dict):
            # Fooocus writes its JSON record into the UserComment of its JPEG and WebP files.
            findings.append(with_source(info_from_mapping(mapping), "exif:UserComment"))
        elif looks_like_a1111(comment):
            findings.append(with_source(parse_a1111(comment), "exif:UserComment"))
        else:
            findings.append(plain_description(comment, "exif:UserComment"))

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
        if looks_like_a1111(description):
            findings.append(with_source(parse_a1111(description), "exif:ImageDescription"))
        else:
            findings.append(plain_description(description, "exif:ImageDescription"))
    return findings


def plain_description(text: str, source: str) -> GenerationInfo:
    text = clean_text(text).strip()
    if text.lower() in _PLACEHOLDER_DESCRIPTIONS:
        return GenerationInfo()
    return GenerationInfo(prompt=cap(text), sources=[source])


def _exif_text(value: Any) -> str:
    if isinstance(value, bytes):
        return decode_text(value.rstrip(b"\x00"))
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
        text = decode_text(body)
    elif header.startswith(b"JIS"):
        text = body.decode("shift_jis", "replace")
    elif header == b"\x00" * 8:
        text = decode_text(body)
    else:
        # No charset header at all; some writers skip it.
        text = decode_text(value)
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


def xmp_description(xmp: bytes) -> str:
    if len(xmp) > MAX_XMP_BYTES:
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
                return cap(clean_text(li.text).strip())
        if description.text and description.text.strip():
            return cap(clean_text(description.text).strip())
    return ""
