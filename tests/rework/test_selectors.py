"""The compare page's reads: which versions it offers and how two drafts' generations differ."""

from __future__ import annotations

from apps.drafts.models import Draft
from apps.rework.selectors import CompareImage, compare_choices, generation_diff
from tests.factories import make_draft


def _with_record(draft: Draft, **fields: object) -> Draft:
    Draft.objects.filter(pk=draft.pk).update(**fields)
    draft.refresh_from_db()
    return draft


def _pair(parent: Draft, child: Draft) -> tuple[CompareImage, CompareImage]:
    by_key = {c.key: c for c in compare_choices(child)}
    return by_key[f"d{parent.pk}"], by_key[f"d{child.pk}"]


def test_the_diff_marks_the_seed_and_only_the_prompt_words_that_changed(batch):
    parent = _with_record(
        make_draft(batch),
        prompt="a red can on a mossy rock, morning light",
        negative_prompt="blurry",
        seed=1234,
        model_name="sdxl-base",
        parameters={"Steps": 30, "Sampler": "DPM++ 2M", "CFG scale": 7},
    )
    child = _with_record(
        make_draft(batch, parent=parent),
        prompt="a red can on a wet rock, morning light",
        negative_prompt="blurry",
        seed=98765,
        model_name="sdxl-base",
        parameters={"Steps": 30, "Sampler": "DPM++ 2M", "CFG scale": 5.5},
    )
    rows = {row.label: row for row in generation_diff(*_pair(parent, child))}
    assert rows["Seed"].differs and rows["CFG"].differs
    assert not rows["Model"].differs and not rows["Steps"].differs
    assert not rows["Negative prompt"].differs and not rows["Sampler"].differs
    prompt = rows["Prompt"]
    assert prompt.differs
    assert [p.text for p in prompt.a if p.changed] == ["mossy"]
    assert [p.text for p in prompt.b if p.changed] == ["wet"]
    assert "".join(p.text for p in prompt.b) == "a red can on a wet rock, morning light"


def test_the_same_setting_lines_up_whatever_each_generator_called_it(batch):
    parent = _with_record(
        make_draft(batch), parameters={"CFG scale": 7, "Sampler": "Euler a", "Clip skip": 2}
    )
    child = _with_record(
        make_draft(batch, parent=parent), parameters={"cfg": 7, "sampler_name": "euler_ancestral"}
    )
    rows = {row.label: row for row in generation_diff(*_pair(parent, child))}
    assert not rows["CFG"].differs
    assert rows["Sampler"].differs
    assert rows["Clip skip"].differs and rows["Clip skip"].b[0].text == "—"
    assert "cfg" not in rows and "CFG scale" not in rows


def test_real_sizes_are_compared_and_fields_neither_side_knows_are_left_out(batch):
    parent = make_draft(batch)
    child = make_draft(batch, parent=parent)
    rows = generation_diff(*_pair(parent, child))
    assert [row.label for row in rows] == ["Real size"]
    assert not rows[0].differs and rows[0].a[0].text == "96×64"
