"""Provenance inside exported files: the IPTC/XMP disclosure that an image is AI-generated and a
C2PA manifest whose actions repeat the asset's record. Framework-free (no Django): the callers
build a ``Provenance`` from the record and pass certificate and key as PEM bytes.

XMP goes in at the container level, after encoding, so nothing is re-encoded and the byte
budget loops in workers/render.py stay as they are: a JPEG APP1 segment, a PNG ``iTXt`` chunk
(the XMP spec's; libvips writes ``zTXt``, which Pillow and exiftool do not read as XMP) and a
WebP ``XMP `` chunk behind a VP8X header."""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from workers.imaging.containers import is_png

SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = SOURCE_TYPES + "trainedAlgorithmicMedia"
COMPOSITE = SOURCE_TYPES + "compositeWithTrainedAlgorithmicMedia"
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ProvenanceError(Exception):
    pass


@dataclass(frozen=True)
class Provenance:
    """What the record says about one file. ``channel`` is None for a master."""

    title: str
    generator: str = ""
    model: str = ""
    edited: bool = False
    upscale_model: str = ""  # "" when not upscaled; "classical" for the non-neural path
    upscale_weights_sha256: str = ""
    upscale_scale: float | None = None
    channel: str | None = None
    channel_name: str = ""
    crop: tuple[int, int, int, int] | None = None  # x, y, width, height in the master
    size: tuple[int, int] | None = None

    @property
    def digital_source_type(self) -> str:
        return COMPOSITE if self.edited else TRAINED

    def with_channel(
        self,
        *,
        channel: str,
        channel_name: str,
        crop: tuple[int, int, int, int] | None,
        size: tuple[int, int],
    ) -> Provenance:
        return replace(self, channel=channel, channel_name=channel_name, crop=crop, size=size)


# --- XMP -------------------------------------------------------------------------------------


def xmp_packet(p: Provenance) -> bytes:
    """An XMP packet with Iptc4xmpExt:DigitalSourceType, the title and, as a human-readable
    description, which generator and model made it."""
    made = " ".join(x for x in (p.generator, p.model) if x) or "a generative model"
    description = f"AI-generated image ({made})" + (", edited" if p.edited else "")
    if p.upscale_model:
        description += f", upscaled with {p.upscale_model}"
    agent = quoteattr(f"Draftroom ({made})")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' Iptc4xmpExt:DigitalSourceType="{p.digital_source_type}"'
        f" xmp:CreatorTool={agent}>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(p.title)}</rdf:li>'
        "</rdf:Alt></dc:title>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li>'
        "</rdf:Alt></dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def embed_xmp(data: bytes, fmt: str, packet: bytes) -> bytes:
    """``data`` (an encoded JPEG, PNG or WebP) with ``packet`` as its XMP, pixels untouched."""
    fmt = fmt.upper()
    if fmt == "JPEG":
        return _jpeg_with_xmp(data, packet)
    if fmt == "PNG":
        return _png_with_xmp(data, packet)
    if fmt == "WEBP":
        return _webp_with_xmp(data, packet)
    raise ProvenanceError(f"XMP is not written into {fmt} files")


def _jpeg_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ProvenanceError("not a JPEG")
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    if len(payload) + 2 > 0xFFFF:
        raise ProvenanceError("XMP packet too large for one JPEG segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # After SOI and any APP0 (JFIF must stay first when present).
    pos = 2
    if data[pos : pos + 2] == b"\xff\xe0":
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return data[:pos] + segment + data[pos:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with_xmp(data: bytes, packet: bytes) -> bytes:
    if not is_png(data):
        raise ProvenanceError("not a PNG")
    # iTXt, uncompressed, empty language and translated keyword (XMP spec part 3).
    chunk = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)
    out, pos = [data[:8]], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind == b"IDAT" and chunk:
            out.append(chunk)
            chunk = b""
        if not (
            kind in (b"iTXt", b"zTXt") and data[pos + 8 : pos + 26] == b"XML:com.adobe.xmp\x00"
        ):
            out.append(data[pos:end])  # an older XMP chunk is replaced
        pos = end
    return b"".join(out)


def _webp_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ProvenanceError("not a WebP")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    chunks = [(k, b) for k, b in chunks if k != b"XMP "]
    if chunks and chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        header[0] |= 0x04
        chunks[0] = (b"VP8X", bytes(header))
    else:
        width, height, alpha = _webp_simple_size(chunks)
        flags = 0x04 | (0x10 if alpha else 0)
        body = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", body + (height - 1).to_bytes(3, "little")))
    chunks.append((b"XMP ", packet))
    payload = b"WEBP" + b"".join(
        k + struct.pack("<I", len(b)) + b + (b"\x00" if len(b) & 1 else b"") for k, b in chunks
    )
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def _webp_simple_size(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    for kind, body in chunks:
        if kind == b"VP8 " and len(body) >= 10:
            w, h = struct.unpack("<HH", body[6:10])
            return w & 0x3FFF, h & 0x3FFF, False
        if kind == b"VP8L" and len(body) >= 5:
            bits = int.from_bytes(body[1:5], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise ProvenanceError("WebP without an image chunk")


# --- C2PA ------------------------------------------------------------------------------------


def c2pa_actions(p: Provenance) -> list[dict[str, Any]]:
    """The manifest's actions, in the order they happened, as the record tells them."""
    made_by = {"name": p.generator or "unknown generator"}
    created: dict[str, Any] = {
        "action": "c2pa.created",
        "digitalSourceType": TRAINED,
        "softwareAgent": made_by,
        "parameters": {"generator": p.generator, "model": p.model},
    }
    actions = [created]
    if p.edited:
        actions.append(
            {
                "action": "c2pa.edited",
                "digitalSourceType": COMPOSITE,
                "softwareAgent": {"name": "Draftroom"},
            }
        )
    if p.upscale_model:
        neural = p.upscale_model != "classical"
        actions.append(
            {
                "action": "c2pa.resized",
                "softwareAgent": {"name": p.upscale_model},
                "parameters": {
                    "com.draftroom.upscale": {
                        "model": p.upscale_model,
                        "weights_sha256": p.upscale_weights_sha256 or None,
                        "scale": p.upscale_scale,
                        "neural": neural,
                    }
                },
            }
        )
    if p.channel:
        if p.crop is not None:
            actions.append(
                {
                    "action": "c2pa.cropped",
                    "softwareAgent": {"name": "Draftroom"},
                    "parameters": {"com.draftroom.channel": p.channel, "crop_box": list(p.crop)},
                }
            )
        actions.append(
            {
                "action": "c2pa.resized",
                "softwareAgent": {"name": "Draftroom"},
                "parameters": {
                    "com.draftroom.channel": p.channel,
                    "channel_name": p.channel_name or p.channel,
                    "size": list(p.size) if p.size else None,
                },
            }
        )
    return actions


def c2pa_manifest(p: Provenance) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "Draftroom", "version": "1"}],
        "title": p.title,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": c2pa_actions(p)}}],
    }


def c2pa_sign(
    data: bytes, fmt: str, p: Provenance, *, cert_pem: bytes, key_pem: bytes, alg: str = "es256"
) -> bytes:
    """``data`` with a C2PA manifest embedded, signed offline (no timestamp authority)."""
    try:
        import c2pa  # optional: without it the XMP disclosure still goes out
    except ImportError as exc:  # pragma: no cover - c2pa-python is a dependency
        raise ProvenanceError("c2pa-python is not installed") from exc
    mime = MIME.get(fmt.upper())
    if mime is None:
        raise ProvenanceError(f"no C2PA for {fmt}")
    info = c2pa.C2paSignerInfo(alg.encode(), cert_pem, key_pem, None)
    try:
        signer = c2pa.Signer.from_info(info)
        # No claim thumbnail: the SDK's default embeds a re-encoded copy of the image, which
        # added 0.2 to 1.2 MB per file and most of the signing time (docs/performance.md).
        context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        builder = c2pa.Builder(json.dumps(c2pa_manifest(p)), context=context)
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"C2PA signing failed: {exc}") from exc
    return out.getvalue()
