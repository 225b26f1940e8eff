"""The compare page's reads: which versions it offers and how two drafts' generations differ."""

from __future__ import annotations

from apps.drafts.models import Draft
from apps.rework.selectors import (
    CompareImage,
    VersionNote,
    compare_choices,
    generation_diff,
    version_note,
)
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


# --- the creator's note on the version under review ---------------------------------------------


def _submitted(cast, draft, kind, note):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from apps.rework.services import assignment_create, assignment_submit
    from tests.images import png_bytes

    assignment = assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind=kind,
        instructions="Label reads FJELL",
        due_date=timezone.localdate() + timedelta(days=2),
    )
    colour = (len(note) * 7 % 255, 30, Draft.objects.count() * 11 % 255)
    result = assignment_submit(
        assignment=assignment,
        by=cast.creator,
        name=f"{kind}.png",
        upload=png_bytes(color=colour),
        note=note,
    )
    assignment.refresh_from_db()
    return assignment, result


def test_a_regenerated_draft_carries_the_creators_note_from_its_assignment(cast, batch):
    assignment, child = _submitted(cast, make_draft(batch), "regenerate", "Label fixed")
    assert version_note(child) == VersionNote("creator", "Label fixed", assignment.pk)
    # The parent shows no note: the note describes the new draft.
    assert version_note(assignment.draft) is None


def test_an_edited_draft_carries_its_revisions_note(cast, batch):
    assignment, draft = _submitted(cast, make_draft(batch), "edit", "Hand retouched")
    assert version_note(draft) == VersionNote("creator", "Hand retouched", assignment.pk)


def test_a_draft_without_a_note_or_edited_after_its_regeneration_shows_none(cast, batch):
    _, child = _submitted(cast, make_draft(batch), "regenerate", "")
    assert version_note(child) is None
    _, child = _submitted(cast, make_draft(batch), "regenerate", "New take")
    _submitted(cast, child, "edit", "")
    child.refresh_from_db()
    # The regeneration's note described revision 1; revision 2 came without one.
    assert version_note(child) is None
