"""workers/provenance.py: the XMP disclosure goes into JPEG, PNG and WebP without touching a
pixel, and a signed C2PA manifest names what the record says."""

from __future__ import annotations

import io

import c2pa
import pytest
import pyvips
from PIL import Image

from tests.workers.c2pa_certs import signing_chain
from workers.provenance import (
    COMPOSITE,
    MIME,
    TRAINED,
    Provenance,
    ProvenanceError,
    c2pa_actions,
    c2pa_sign,
    embed_xmp,
    xmp_packet,
)

RECORD = Provenance(
    title="Can on a rock — 新しい味",
    generator="ComfyUI",
    model="sdxl",
    upscale_model="realesrgan-x4plus",
    upscale_weights_sha256="ab" * 32,
    upscale_scale=4.0,
    channel="square",
    channel_name="Square",
    crop=(10, 20, 300, 300),
    size=(64, 64),
)


def _image(alpha: bool = False) -> pyvips.Image:
    image = (pyvips.Image.black(96, 64, bands=4 if alpha else 3) + 90).cast("uchar")
    return image


ENCODINGS = {
    "jpeg": ("JPEG", lambda: _image().jpegsave_buffer()),
    "png": ("PNG", lambda: _image().pngsave_buffer()),
    "webp-lossy": ("WEBP", lambda: _image().webpsave_buffer()),
    "webp-lossless-alpha": ("WEBP", lambda: _image(alpha=True).webpsave_buffer(lossless=True)),
    "webp-extended-icc": (
        "WEBP",
        lambda: _image().icc_transform("srgb").webpsave_buffer(keep="icc"),
    ),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_the_disclosure_is_readable_and_the_pixels_are_unchanged(name):
    fmt, encode = ENCODINGS[name]
    plain = bytes(encode())
    stamped = embed_xmp(plain, fmt, xmp_packet(RECORD))
    before, after = Image.open(io.BytesIO(plain)), Image.open(io.BytesIO(stamped))
    assert after.tobytes() == before.tobytes() and after.mode == before.mode
    description = after.getxmp()["xmpmeta"]["RDF"]["Description"]
    assert description["DigitalSourceType"] == TRAINED


def test_stamping_twice_keeps_one_packet():
    plain = bytes(_image().pngsave_buffer())
    once = embed_xmp(plain, "PNG", xmp_packet(RECORD))
    twice = embed_xmp(once, "PNG", xmp_packet(RECORD))
    assert twice.count(b"XML:com.adobe.xmp") == 1


def test_an_edit_makes_it_a_composite():
    from dataclasses import replace

    assert replace(RECORD, edited=True).digital_source_type == COMPOSITE
    assert any(a["action"] == "c2pa.edited" for a in c2pa_actions(replace(RECORD, edited=True)))


def test_other_formats_are_refused():
    with pytest.raises(ProvenanceError):
        embed_xmp(b"GIF89a", "GIF", xmp_packet(RECORD))


@pytest.mark.parametrize("name", ["jpeg", "png", "webp-lossy"])
def test_a_signed_manifest_validates_and_names_model_hash_and_channel(name):
    fmt, encode = ENCODINGS[name]
    chain, key, ca = signing_chain()
    data = embed_xmp(bytes(encode()), fmt, xmp_packet(RECORD))
    signed = c2pa_sign(data, fmt, RECORD, cert_pem=chain, key_pem=key)
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": ca.decode()}})
    reader = c2pa.Reader(MIME[fmt], io.BytesIO(signed), context=context)
    assert reader.get_validation_state() == "Trusted"
    actions = reader.get_active_manifest()["assertions"][0]["data"]["actions"]
    assert [a["action"] for a in actions] == [
        "c2pa.created",
        "c2pa.resized",
        "c2pa.cropped",
        "c2pa.resized",
    ]
    assert actions[1]["parameters"]["com.draftroom.upscale"]["weights_sha256"] == "ab" * 32
    assert actions[3]["parameters"]["com.draftroom.channel"] == "square"
    assert Image.open(io.BytesIO(signed)).getxmp()  # the XMP survives signing


def test_a_key_that_does_not_match_the_certificate_is_refused():
    chain, _, _ = signing_chain()
    _, other_key, _ = signing_chain()
    with pytest.raises(ProvenanceError):
        c2pa_sign(
            bytes(_image().jpegsave_buffer()), "JPEG", RECORD, cert_pem=chain, key_pem=other_key
        )
