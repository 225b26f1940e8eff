"""The search document and the query language (apps.drafts.search): pure functions."""

from __future__ import annotations

from datetime import date

from apps.drafts.search import (
    lora_names,
    parse_query,
    prompt_key,
    search_document,
    search_fields,
)


def _document(**overrides):
    fields = {
        "prompt": "studio shot of a sparkling water can <lora:fjellCan_v2:0.8>",
        "negative_prompt": "blurry, watermark",
        "model_name": "sd_xl_base_1.0",
        "generator": "Automatic1111",
        "parameters": {"Sampler": "DPM++ 2M Karras", "Lora hashes": '"glacierLight: abc"'},
    }
    return search_document(**(fields | overrides))


def test_the_document_holds_prompt_words_lower_cased_between_spaces():
    doc = _document()
    assert doc.startswith(" studio shot ") and doc.endswith(" ")
    assert " sparkling " in doc and " blurry " in doc and " watermark " in doc


def test_named_fields_are_tagged_so_a_prompt_word_is_not_taken_for_them():
    doc = _document()
    assert " lorafjellcan " in doc and " lorav2 " in doc and " loraglacierlight " in doc
    assert " modelsd " in doc and " samplerdpm " in doc and " genautomatic1111 " in doc
    assert " fjellcan " in doc  # the <lora:…> tag is in the prompt too


def test_lora_names_come_from_comfyui_lists_a1111_hashes_and_prompt_tags():
    names = lora_names(
        "a can <lyco:Frost:1>",
        {"loras": ["styles/fjell_can.safetensors"], "Lora hashes": "glacier: 1a2b, mist: 3c"},
    )
    assert names == ["fjell_can", "glacier", "mist", "Frost"]


def test_a_draft_without_a_prompt_has_no_prompt_key_and_never_stacks():
    assert prompt_key(prompt="", negative_prompt="x", model_name="m") == ""


def test_drafts_of_one_prompt_share_a_key_whatever_the_punctuation_and_case():
    one = prompt_key(prompt="A can, on snow", negative_prompt="blurry", model_name="sdxl")
    two = prompt_key(prompt="a can on  snow!", negative_prompt="Blurry", model_name="SDXL")
    other = prompt_key(prompt="a can on grass", negative_prompt="blurry", model_name="sdxl")
    assert one == two != other


def test_search_fields_are_the_two_derived_columns():
    fields = search_fields(
        prompt="can", negative_prompt="", model_name="", generator="", parameters={}
    )
    assert fields == {"search_document": " can ", "prompt_key": fields["prompt_key"]}
    assert len(fields["prompt_key"]) == 16


def test_a_very_long_prompt_is_cut_at_a_word_boundary():
    doc = _document(prompt="word " * 10_000)
    assert len(doc) <= 20_002 and doc.endswith(" word ")


def test_the_query_language_reads_words_and_every_filter():
    query = parse_query(
        'Snowy CAN seed:1234567 model:sdxl lora:"fjell can" sampler:euler by:@creator '
        "decision:keep check:softness after:2026-11-01 before:2026-12-01",
        check_values=["softness", "fail"],
    )
    assert query.words == ["snowy", "can"]
    assert query.tagged == ["modelsdxl", "lorafjell", "loracan", "samplereuler"]
    assert query.seed == 1234567 and query.by == "creator" and query.decision == "keep"
    assert query.check == "softness"
    assert (query.after, query.before) == (date(2026, 11, 1), date(2026, 12, 1))
    assert query.problems == [] and not query.is_empty


def test_what_the_query_language_does_not_understand_is_said_and_the_rest_applies():
    query = parse_query("can seed:abc decision:maybe check:nope after:soon by:a\x00b ratio:16:9")
    assert query.words == ["can", "ratio", "16", "9"]
    assert query.seed is None and not query.decision and not query.check and not query.by
    assert len(query.problems) == 5


def test_an_empty_query_is_empty():
    assert parse_query("   ").is_empty
