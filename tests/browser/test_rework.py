"""The quality check's second half, as people use it: marked regions, sign-off, rework
assignments, the creator's new version and comparing versions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import ImageDraw
from playwright.sync_api import expect

from apps.drafts.models import Draft
from apps.reviews.models import Region
from apps.reviews.services import review_submit
from apps.rework.models import Assignment
from apps.rework.services import assignment_create
from tests.browser.conftest import log_in, shot, stay_after_deciding
from tests.drafts.builders import run_previews
from tests.factories import PASSWORD, make_draft
from tests.images import encode_png, pattern_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _art(size=(1200, 800), *, label: str | None = None) -> bytes:
    """The test card, optionally with a pale "label" painted on it (a retouch or a new take)."""
    image = pattern_image(size)
    if label:
        draw = ImageDraw.Draw(image)
        w, h = size
        draw.rectangle((w * 0.4, h * 0.42, w * 0.6, h * 0.58), fill=(240, 240, 230))
        draw.text((w * 0.45, h * 0.48), label, fill=(20, 20, 20))
    return encode_png(image)


def _at(box, fx, fy):
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _drag(page, start, end):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def _switch(page, username):
    page.context.clear_cookies()
    log_in(page, username, PASSWORD)


def test_a_reviewer_marks_regions_at_any_zoom_and_they_are_saved_with_the_decision(
    cast, batch, page
):
    draft = make_draft(batch, name="can-on-rock.png", data=_art((1600, 1000)))
    run_previews()
    stay_after_deciding("reviewer")
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/")

    # At fit: drag a box over the left part of the image.
    page.keyboard.press("m")
    expect(page.locator("#region-draw")).to_have_attribute("aria-pressed", "true")
    image = page.locator("#stage-img").bounding_box()
    _drag(page, _at(image, 0.1, 0.2), _at(image, 0.35, 0.7))
    expect(page.locator("#region-editor")).to_be_visible()
    page.select_option("#region-category", "hands")
    page.fill("#region-note", "six fingers on the left hand")
    page.click("#region-add")
    expect(page.locator("#pending-region-list li")).to_have_count(1)
    expect(page.locator("#pending-region-list")).to_contain_text("Hands: six fingers")

    # At 100 %: the centre of the stage is the centre of the image.
    page.keyboard.press("z")
    expect(page.locator("#zoom-level")).to_have_text("100 %")
    stage = page.locator("#stage").bounding_box()
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    _drag(page, (cx - 60, cy - 40), (cx + 60, cy + 40))
    page.select_option("#region-category", "text_or_logo")
    page.fill("#region-note", "label reads FJEL")
    page.keyboard.press("Enter")
    expect(page.locator("#pending-region-list li")).to_have_count(2)
    expect(page.locator("#region-layer .region-box.pending")).to_have_count(2)
    shot(page, "regions-drawn-at-100")
    page.keyboard.press("0")
    shot(page, "regions-drawn-at-fit")

    # Overlays toggle with O (and the button); drawn boxes survive a reload before deciding.
    page.keyboard.press("m")
    page.keyboard.press("o")
    expect(page.locator("#region-layer")).to_have_class(re.compile("regions-hidden"))
    expect(page.locator("#region-layer .region-box").first).to_be_hidden()
    page.click("#region-toggle")
    expect(page.locator("#region-layer .region-box").first).to_be_visible()
    page.reload()
    expect(page.locator("#pending-region-list li")).to_have_count(2)

    # The next decision saves them with its review.
    page.fill("#review-note", "Hands and label need a new draft")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#current-decision")).to_have_text("Regenerate")
    expect(page.locator("#pending-regions")).to_be_hidden()
    expect(page.locator("#region-list .region-item")).to_have_count(2)
    expect(page.locator("#region-layer .region-box:not(.pending)")).to_have_count(2)
    expect(page.locator("#review-history")).to_contain_text("2 marked regions")
    shot(page, "regions-saved")

    hands, label = Region.objects.order_by("id")
    assert hands.review.note == "Hands and label need a new draft"
    assert (hands.category, hands.note) == ("hands", "six fingers on the left hand")
    assert (hands.x, hands.y, hands.w, hands.h) == pytest.approx((0.1, 0.2, 0.25, 0.5), abs=0.01)
    # 120 x 80 screen pixels at 100 % are 120 x 80 source pixels around the centre.
    assert label.category == "text_or_logo"
    assert label.pixel_box() == pytest.approx(
        {"left": 740, "top": 460, "width": 120, "height": 80}, abs=3
    )
    page.reload()
    expect(page.locator("#region-layer .region-box")).to_have_count(2)
    expect(page.locator("#pending-region-list li")).to_have_count(0)
    assert page.errors == []


def test_an_art_director_assigns_a_regeneration_the_creator_uploads_it_and_both_compare(
    cast, batch, page, tmp_path
):
    parent = make_draft(batch, name="can-on-rock.png", data=_art(), by=cast.creator)
    review_submit(
        draft=parent,
        reviewer=cast.reviewer,
        decision="regenerate",
        note="The label reads FJEL",
        regions=[
            {"category": "text_or_logo", "note": "FJEL", "x": 0.4, "y": 0.4, "w": 0.2, "h": 0.2}
        ],
    )
    run_previews()

    # The art director sends it back, with the reviewer's region.
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/drafts/{parent.pk}/")
    page.click("#assign-link")
    expect(page.locator("input[name=kind][value=regenerate]")).to_be_checked()
    expect(page.locator("input[name=regions]")).to_be_checked()
    expect(page.locator("textarea[name=instructions]")).to_have_value("The label reads FJEL")
    expect(page.locator("#region-figure .region-box")).to_have_count(1)
    page.fill("textarea[name=instructions]", "Regenerate with the label reading FJELL.")
    shot(page, "rework-assign-form")
    page.click("#assign-submit")
    expect(page).to_have_url(re.compile(rf"/drafts/{parent.pk}/$"))
    expect(page.locator("#draft-assignments")).to_contain_text("Regenerate for creator")
    assignment = Assignment.objects.get()
    assert assignment.assignee == cast.creator and assignment.regions.count() == 1

    # The creator finds it in the inbox, with the region on the image, and uploads a new take.
    _switch(page, "creator")
    # Two things to know: the regenerate decision on their draft, and the assignment.
    expect(page.locator("#unread-count")).to_have_text("2")
    page.click("#inbox-link")
    expect(page.locator("#inbox-open .assignment-card")).to_have_count(1)
    expect(page.locator("#inbox-open")).to_contain_text("label reading FJELL")
    shot(page, "rework-creator-inbox")
    page.click("#inbox-open .assignment-card a >> nth=1")
    expect(page.locator("#region-figure .region-box")).to_have_count(1)
    expect(page.locator(".region-list")).to_contain_text("Text or logo: FJEL")
    shot(page, "rework-assignment-page")
    new_take = tmp_path / "can-on-rock-v2.png"
    new_take.write_bytes(_art(label="FJELL"))
    page.set_input_files("#version-file", str(new_take))
    page.fill("textarea[name=note]", "Label fixed")
    page.click("#submit-version")
    child = Draft.objects.get(parent=parent)
    expect(page).to_have_url(re.compile(rf"/drafts/{child.pk}/$"))
    expect(page.locator("#current-decision")).to_have_text("Undecided")
    expect(page.locator(".rework-origin")).to_contain_text("Regenerated from")
    expect(page.locator("#lineage .lineage-node")).to_have_count(2)
    page.locator("#lineage").scroll_into_view_if_needed()
    shot(page, "rework-child-panel")
    assignment.refresh_from_db()
    assert assignment.status == "done" and assignment.result_draft == child
    run_previews()

    # Compare with its parent: side by side, zoom and pan in step, then the wipe
    # (tests/browser/test_compare.py checks the geometry closely).
    page.reload()
    page.click("#compare-link")
    expect(page.locator("#compare-a")).to_have_value(f"d{parent.pk}")
    expect(page.locator("#compare-b")).to_have_value(f"d{child.pk}")
    level = page.locator('[data-cmp="level"]')
    expect(level).to_have_text("fit")
    shot(page, "compare-side-by-side-fit")
    page.keyboard.press("z")
    expect(level).to_have_text("100 %")
    img_a = page.locator('.cmp-pane[data-side="a"] .cmp-img')
    img_b = page.locator('.cmp-pane[data-side="b"] .cmp-img')
    a, b = img_a.bounding_box(), img_b.bounding_box()
    assert round(a["width"]) == round(b["width"]) == 1200
    pane_a = page.locator('.cmp-pane[data-side="a"]').bounding_box()
    pane_b = page.locator('.cmp-pane[data-side="b"]').bounding_box()
    assert a["x"] - pane_a["x"] == pytest.approx(b["x"] - pane_b["x"], abs=1)
    assert a["y"] - pane_a["y"] == pytest.approx(b["y"] - pane_b["y"], abs=1)
    _drag(page, _at(pane_b, 0.5, 0.5), _at(pane_b, 0.7, 0.6))
    a2, b2 = img_a.bounding_box(), img_b.bounding_box()
    assert a2["x"] > a["x"] and a2["x"] - a["x"] == pytest.approx(b2["x"] - b["x"], abs=1)
    assert a2["y"] - a["y"] == pytest.approx(b2["y"] - b["y"], abs=1)
    shot(page, "compare-side-by-side-100")
    page.keyboard.press("0")
    page.click('[data-cmp-mode="wipe"]')
    stage_el = page.locator('[data-cmp="stage"]')
    expect(stage_el).to_have_class(re.compile("mode-wipe"))
    page.locator('[data-cmp="wipe"]').fill("35")
    stage = stage_el.bounding_box()
    clip = page.locator('.cmp-pane[data-side="b"]').evaluate("el => el.style.clipPath")
    assert clip == f"inset(0px 0px 0px {stage['width'] * 0.35:g}px)" or "inset(0" in clip
    handle = page.locator('[data-cmp="divider"]').bounding_box()
    assert handle["x"] + handle["width"] / 2 == pytest.approx(
        stage["x"] + 0.35 * stage["width"], abs=2
    )
    shot(page, "compare-wipe-fit")
    page.keyboard.press("z")
    shot(page, "compare-wipe-100")
    page.reload()  # the mode is in the address, so a reload keeps the wipe
    expect(page.locator('[data-cmp-mode="wipe"]')).to_have_attribute("aria-pressed", "true")

    # The art director hears about the new version.
    _switch(page, "art_director")
    page.click("#notifications-link")
    expect(page.locator(".notification.unread")).to_contain_text("uploaded the regenerated version")
    page.click(".notification.unread .notification-open")
    expect(page).to_have_url(re.compile(rf"/drafts/{child.pk}/$"))
    expect(page.locator("#unread-count")).to_have_count(0)
    assert page.errors == []


def test_an_edit_comes_back_as_a_revision_compared_with_the_earlier_file_then_signed_off(
    cast, batch, page, tmp_path
):
    draft = make_draft(batch, name="hero.png", data=_art((1000, 700)), by=cast.creator)
    late = assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Retouch the label area",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    Assignment.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    run_previews()
    stay_after_deciding("reviewer")
    log_in(page, "creator", PASSWORD)
    page.click("#inbox-link")
    expect(page.locator("#inbox-overdue .assignment-card")).to_have_count(1)
    expect(page.locator("#inbox-overdue")).to_contain_text("overdue")
    page.click("#inbox-overdue .assignment-card a >> nth=1")
    retouched = tmp_path / "hero-retouched.png"
    retouched.write_bytes(_art((1000, 700), label="FJELL"))
    page.set_input_files("#version-file", str(retouched))
    page.fill("textarea[name=note]", "Label retouched")
    page.click("#submit-version")
    expect(page).to_have_url(re.compile(rf"/drafts/{draft.pk}/$"))
    draft.refresh_from_db()
    assert draft.revision == 2
    expect(page.locator("#lineage .lineage-revisions li")).to_have_count(2)
    expect(page.locator("#lineage")).to_contain_text("Label retouched")
    run_previews()

    page.click("#lineage >> text=compare with current")
    first = draft.revisions.get(number=1)
    expect(page.locator("#compare-a")).to_have_value(f"r{first.pk}")
    expect(page.locator("#compare-b")).to_have_value(f"d{draft.pk}")
    page.click('[data-cmp-mode="wipe"]')
    page.keyboard.press("z")
    shot(page, "compare-revisions-wipe-100")

    # The art director adds the product reference and compares the draft with it.
    _switch(page, "art_director")
    page.goto(f"/campaigns/{cast.campaign.pk}/review-settings/")
    product = tmp_path / "product.png"
    product.write_bytes(encode_png(pattern_image((400, 600))))
    page.set_input_files("#product-reference-form input[type=file]", str(product))
    page.click("#product-reference-form button[type=submit]")
    expect(page.locator("#product-reference-img")).to_be_visible()
    page.goto(f"/drafts/{draft.pk}/compare/?a=product&b=d{draft.pk}")
    expect(page.locator('.cmp-pane[data-side="a"] .cmp-label')).to_contain_text("Product reference")
    shot(page, "compare-product-reference")

    # A reviewer keeps the retouched draft; it counts once the art director signs it off.
    _switch(page, "reviewer")
    page.goto(f"/drafts/{draft.pk}/")
    page.keyboard.press("k")
    expect(page.locator("#proposed-decision")).to_contain_text("Keep (awaiting sign-off)")
    _switch(page, "art_director")
    page.goto(f"/drafts/{draft.pk}/")
    expect(page.locator("#consensus")).to_contain_text("reviewer")
    page.click("#sign-off-button")
    expect(page.locator("#current-decision")).to_have_text("Keep")
    expect(page.locator("#current-decider")).to_contain_text("by reviewer")
    expect(page.locator("#current-decider")).to_contain_text("signed off by art_director")
    shot(page, "signed-off")
    page.locator("#lineage").scroll_into_view_if_needed()
    shot(page, "signed-off-panel-consensus-rework-lineage")
    draft.refresh_from_db()
    assert (draft.decision, draft.signed_off_by) == ("keep", cast.art_director)
    assert page.errors == []


def test_the_creators_note_shows_beside_the_decision_and_on_the_assignment(cast, batch, page):
    from apps.rework.services import assignment_submit

    parent = make_draft(batch, name="can-on-rock.png", data=_art(), by=cast.creator)
    assignment = assignment_create(
        draft=parent,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="regenerate",
        instructions="Regenerate with the label reading FJELL.",
        due_date=timezone.localdate() + timedelta(days=2),
    )
    child = assignment_submit(
        assignment=assignment,
        by=cast.creator,
        name="can-on-rock-v2.png",
        upload=_art(label="FJELL"),
        note="Label fixed; the rock is darker so the can reads first.",
    )
    run_previews()
    log_in(page, "reviewer", PASSWORD)
    for name, viewport in {"1440": (1440, 900), "390": (390, 844)}.items():
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        page.goto(f"/drafts/{child.pk}/")
        note = page.locator("#decision-bar #version-note")
        expect(note).to_contain_text("Note from creator: Label fixed; the rock is darker")
        # The note does not push the decision away.
        keep = page.locator(".decide-keep").bounding_box()
        assert keep is not None and keep["y"] + keep["height"] <= viewport[1]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"rework-note-draft-{name}")
        page.click("#version-note a")
        expect(page).to_have_url(re.compile(rf"/assignments/{assignment.pk}/$"))
        expect(page.locator("#assignment-result #version-note")).to_contain_text(
            "Note from creator: Label fixed"
        )
        page.locator("#version-note").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"rework-note-assignment-{name}")
    assert page.errors == []
