"""GenerationInfo: emptiness and merging."""

from __future__ import annotations

from workers.genmeta import GenerationInfo


def test_fresh_generation_info_is_empty_and_sources_alone_do_not_count() -> None:
    assert GenerationInfo().is_empty()
    assert GenerationInfo(sources=["png:parameters"]).is_empty()
    assert not GenerationInfo(seed=0).is_empty()
    assert not GenerationInfo(references=["ref.png"]).is_empty()


def test_merging_keeps_our_values_and_fills_gaps_from_the_other() -> None:
    ours = GenerationInfo(
        prompt="ours",
        seed=None,
        parameters={"steps": 30, "cfg": 7},
        references=["a.png", "b.png"],
        sources=["png:parameters"],
    )
    theirs = GenerationInfo(
        prompt="theirs",
        negative_prompt="blurry",
        model="sdxl",
        seed=0,
        parameters={"steps": 20, "sampler": "euler"},
        references=["b.png", "c.png"],
        sources=["sidecar:x.json"],
    )
    merged = ours.merged_with(theirs)
    assert merged.prompt == "ours"
    assert merged.negative_prompt == "blurry"
    assert merged.model == "sdxl"
    assert merged.seed == 0
    assert merged.parameters == {"steps": 30, "cfg": 7, "sampler": "euler"}
    assert merged.references == ["a.png", "b.png", "c.png"]
    assert merged.sources == ["png:parameters", "sidecar:x.json"]
    assert ours.parameters == {"steps": 30, "cfg": 7}, "merging must not mutate"
