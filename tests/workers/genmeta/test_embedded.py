"""Metadata inside PNG, JPEG and WebP files: text chunks, EXIF, XMP, hostile files."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.images import (
    HOSTILE_CASES,
    encode_jpeg,
    jpeg_bytes,
    pattern_image,
    png_bytes,
    png_chunk,
    user_comment_bytes,
    webp_bytes,
)
from tests.workers.genmeta.builders import A1111_TEXT, COMFY_PROMPT, COMFY_WORKFLOW, assert_storable
from workers.genmeta import read_embedded


def test_png_parameters_chunk_is_read_as_a1111() -> None:
    info = read_embedded(png_bytes(text={"parameters": A1111_TEXT}))
    assert info.generator == "Automatic1111"
    assert info.seed == 1234567
    assert info.sources == ["png:parameters"]


def test_png_parameters_with_non_latin_text_round_trip_through_itxt() -> None:
    text = "雪山と缶 ❄️\nSteps: 20, Seed: 1, Sampler: Euler"
    info = read_embedded(png_bytes(text={"parameters": text}))
    assert info.prompt == "雪山と缶 ❄️"


def test_compressed_png_text_chunks_are_read() -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT, zip=True)
    info.add_itxt("prompt", json.dumps(COMFY_PROMPT), zip=True)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "PNG", pnginfo=info)
    found = read_embedded(buffer.getvalue())
    assert found.seed == 1234567  # A1111 wins over ComfyUI
    assert found.sources == ["png:parameters", "png:prompt"]


def test_text_chunks_after_the_image_data_are_found_without_decoding_pixels() -> None:
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    late = png_chunk(b"tEXt", b"parameters\x00" + A1111_TEXT.encode("latin-1"))
    info = read_embedded(data[:iend] + late + data[iend:])
    assert info.seed == 1234567


def test_png_comfyui_chunks_are_read_with_their_sources() -> None:
    data = png_bytes(
        text={"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)}
    )
    info = read_embedded(data)
    assert (info.generator, info.prompt, info.model) == ("ComfyUI", "a cat", "v1-5.safetensors")
    assert info.sources == ["png:prompt", "png:workflow"]


def test_fooocus_style_json_parameters_are_understood() -> None:
    payload = {"prompt": "a can", "negative_prompt": "ugly", "seed": "42", "steps": 30}
    info = read_embedded(png_bytes(text={"parameters": json.dumps(payload)}))
    assert (info.prompt, info.negative_prompt, info.seed) == ("a can", "ugly", 42)
    assert info.parameters == {"steps": 30}


def test_novelai_comment_json_is_understood() -> None:
    comment = {"prompt": "1girl, fjord", "uc": "lowres", "seed": 99, "steps": 28, "scale": 5}
    data = png_bytes(
        text={
            "Comment": json.dumps(comment),
            "Software": "NovelAI",
            "Source": "NovelAI Diffusion V3",
        }
    )
    info = read_embedded(data)
    assert (info.prompt, info.negative_prompt, info.seed) == ("1girl, fjord", "lowres", 99)
    assert (info.generator, info.model) == ("NovelAI", "NovelAI Diffusion V3")
    assert info.parameters == {"seed": 99, "steps": 28, "scale": 5}


def test_png_description_chunk_becomes_the_prompt() -> None:
    info = read_embedded(png_bytes(text={"Description": "a can on a glacier --ar 1:1"}))
    assert info.prompt == "a can on a glacier --ar 1:1"
    assert info.sources == ["png:Description"]


def test_a1111_text_in_a_jpeg_user_comment_is_detected() -> None:
    info = read_embedded(jpeg_bytes(user_comment=A1111_TEXT))
    assert info.generator == "Automatic1111"
    assert info.model == "sd_xl_base_1.0"
    assert info.negative_prompt == "blurry, low quality\nwatermark"
    assert info.sources == ["exif:UserComment"]


@pytest.mark.parametrize("charset", ["unicode-be", "unicode-le", "ascii", "undefined"])
def test_user_comment_charsets_are_decoded(charset: str) -> None:
    text = "a can on ice\nSteps: 20, Seed: 5, Sampler: Euler"
    info = read_embedded(jpeg_bytes(user_comment=user_comment_bytes(text, charset)))
    assert info.prompt == "a can on ice"
    assert info.seed == 5


def test_plain_user_comment_becomes_the_prompt() -> None:
    info = read_embedded(jpeg_bytes(user_comment="hand-drawn sketch of a fjord"))
    assert info.prompt == "hand-drawn sketch of a fjord"
    assert info.generator == ""
    assert info.sources == ["exif:UserComment"]


def test_exif_image_description_in_utf8_becomes_the_prompt() -> None:
    info = read_embedded(jpeg_bytes(description="Fjell på fjellet ❄️"))
    assert info.prompt == "Fjell på fjellet ❄️"
    assert info.sources == ["exif:ImageDescription"]


def test_camera_placeholder_descriptions_are_ignored() -> None:
    assert read_embedded(jpeg_bytes(description="OLYMPUS DIGITAL CAMERA")).is_empty()


def test_a1111_user_comment_in_webp_exif_is_detected() -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = user_comment_bytes(A1111_TEXT)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", exif=exif.tobytes())
    info = read_embedded(buffer.getvalue())
    assert info.seed == 1234567


def test_comfyui_graph_in_webp_exif_model_tag_is_detected() -> None:
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(COMFY_PROMPT)
    exif[0x010F] = "workflow:" + json.dumps(COMFY_WORKFLOW)
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", exif=exif.tobytes())
    info = read_embedded(buffer.getvalue())
    assert (info.generator, info.prompt) == ("ComfyUI", "a cat")
    assert info.sources == ["exif:Model", "exif:Make"]


def xmp_packet(description: str, extra: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:description><rdf:Alt>"
        f'{extra}<rdf:li xml:lang="x-default">{description}</rdf:li>'
        "</rdf:Alt></dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def test_xmp_description_in_jpeg_becomes_the_prompt_preferring_x_default() -> None:
    buffer = io.BytesIO()
    xmp = xmp_packet("a can &amp; a lemon", extra='<rdf:li xml:lang="nb-NO">en boks</rdf:li>')
    pattern_image((32, 32)).save(buffer, "JPEG", xmp=xmp)
    info = read_embedded(buffer.getvalue())
    assert info.prompt == "a can & a lemon"
    assert info.sources == ["xmp:dc:description"]


def test_xmp_description_in_png_and_webp_is_read() -> None:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet("png xmp").decode())
    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "PNG", pnginfo=info)
    assert read_embedded(buffer.getvalue()).prompt == "png xmp"

    buffer = io.BytesIO()
    pattern_image((32, 32)).save(buffer, "WEBP", xmp=xmp_packet("webp xmp"))
    assert read_embedded(buffer.getvalue()).prompt == "webp xmp"


def test_xmp_with_entity_expansion_is_refused_by_the_safe_parser() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li>'
        b"&lol2;</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    external = bomb.replace(b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">')
    for xmp in (bomb, external):
        buffer = io.BytesIO()
        pattern_image((16, 16)).save(buffer, "JPEG", xmp=xmp)
        assert read_embedded(buffer.getvalue()).is_empty()


def test_structured_generator_metadata_outranks_free_text_descriptions() -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT)
    info.add_text("Description", "a description")
    info.add_itxt("XML:com.adobe.xmp", xmp_packet("an xmp description").decode())
    buffer = io.BytesIO()
    pattern_image((16, 16)).save(buffer, "PNG", pnginfo=info)
    found = read_embedded(buffer.getvalue())
    assert found.prompt.startswith("studio shot")
    assert found.sources == ["png:parameters", "xmp:dc:description", "png:Description"]


def test_image_without_metadata_gives_empty_info() -> None:
    for data in (png_bytes(), jpeg_bytes(), webp_bytes()):
        info = read_embedded(data)
        assert info.is_empty()
        assert info.sources == []


def test_compressed_text_bomb_is_skipped_rather_than_inflated() -> None:
    bomb = zlib.compress(b"a" * (20 * 1024 * 1024), 9)
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    chunk = png_chunk(b"zTXt", b"parameters\x00\x00" + bomb)
    assert read_embedded(data[:iend] + chunk + data[iend:]).is_empty()


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_hostile_files_never_raise_from_read_embedded(case: str) -> None:
    _name, data = HOSTILE_CASES[case]()
    assert_storable(read_embedded(data))


FUZZ_SEEDS = [
    png_bytes(text={"parameters": A1111_TEXT, "prompt": json.dumps(COMFY_PROMPT)}),
    encode_jpeg(pattern_image((16, 16)), user_comment=A1111_TEXT, description="desc"),
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(FUZZ_SEEDS))),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 1 << 16)),
)
def test_mutated_metadata_never_raises_and_stays_storable(
    seed: int, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(FUZZ_SEEDS[seed])
    for position, mask in flips:
        data[position % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    assert_storable(read_embedded(bytes(data)))
