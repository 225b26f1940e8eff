from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageFilter, ImageStat

from workers.demo_art import DemoDraft, render_demo_drafts
from workers.genmeta import parse_a1111, read_embedded
from workers.intake import inspect_image


@pytest.fixture(scope="module")
def drafts() -> list[DemoDraft]:
    return render_demo_drafts()


def decode(draft: DemoDraft) -> Image.Image:
    image = Image.open(io.BytesIO(draft.data))
    image.load()
    return image


def draft_named(drafts: list[DemoDraft], slug: str) -> DemoDraft:
    (match,) = [draft for draft in drafts if slug in draft.filename]
    return match


def crisp_edge_share(image: Image.Image) -> float:
    """Share of pixels on a hard edge; the frame is cropped because the filter flags it."""
    edges = image.convert("L").filter(ImageFilter.FIND_EDGES)
    histogram = edges.crop((2, 2, edges.width - 2, edges.height - 2)).histogram()
    return sum(histogram[32:]) / sum(histogram)


def test_ten_drafts_with_distinct_png_file_names_are_rendered_by_default(
    drafts: list[DemoDraft],
) -> None:
    assert len(drafts) == 10
    names = [draft.filename for draft in drafts]
    assert len(set(names)) == 10
    assert all(re.fullmatch(r"fjell-draft-\d\d-[a-z-]+\.png", name) for name in names)
    assert len({draft.data for draft in drafts}) == 10
    assert len({draft.seed for draft in drafts}) == 10


def test_drafts_are_deterministic() -> None:
    first = render_demo_drafts(10, (192, 192))
    second = render_demo_drafts(10, (192, 192))
    assert first == second


def test_every_draft_passes_intake_as_a_still_png(drafts: list[DemoDraft]) -> None:
    sizes = []
    for draft in drafts:
        facts = inspect_image(draft.data)
        assert facts.format == "PNG"
        assert facts.mode == "RGB"
        sizes.append((facts.width, facts.height))
    assert sizes.count((1024, 1024)) == 9
    assert sizes.count((512, 512)) == 1


def test_embedded_a1111_parameters_carry_prompt_seed_and_model(drafts: list[DemoDraft]) -> None:
    for draft in drafts:
        text = decode(draft).info["parameters"]
        info = parse_a1111(text)
        assert info.prompt == draft.prompt
        assert info.negative_prompt == draft.negative_prompt
        assert info.seed == draft.seed
        assert info.model == "sdxl-demo"
        assert info.generator == "Automatic1111"
        assert {"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model"} <= set(info.parameters)
        width, height = decode(draft).size
        assert info.parameters["Size"] == f"{width}x{height}"
        assert "Fjell Sparkling" in draft.prompt


def test_intake_metadata_reader_finds_the_demo_prompt(drafts: list[DemoDraft]) -> None:
    info = read_embedded(drafts[0].data)
    assert info.prompt == drafts[0].prompt
    assert info.sources == ["png:parameters"]


def test_the_soft_focus_draft_is_visibly_blurrier_than_the_hero(drafts: list[DemoDraft]) -> None:
    hero = crisp_edge_share(decode(draft_named(drafts, "hero-can")))
    soft = crisp_edge_share(decode(draft_named(drafts, "soft-focus")))
    assert soft < hero / 10


def test_the_off_brand_draft_is_dominated_by_warm_colours(drafts: list[DemoDraft]) -> None:
    red, _green, blue = ImageStat.Stat(decode(draft_named(drafts, "neon-punch"))).mean
    hero_red, _hero_green, hero_blue = ImageStat.Stat(decode(draft_named(drafts, "hero-can"))).mean
    assert red > blue
    assert hero_blue > hero_red


def test_more_drafts_than_recipes_cycle_with_fresh_names_and_seeds() -> None:
    drafts = render_demo_drafts(12, (128, 128))
    assert len({draft.filename for draft in drafts}) == 12
    assert len({draft.seed for draft in drafts}) == 12
    assert render_demo_drafts(0) == []
