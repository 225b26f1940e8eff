"""A creative team's first batch, as people use it: upload, then triage with the keyboard."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.drafts.models import Draft
from apps.reviews.models import Review
from apps.reviews.services import review_submit
from tests.browser.conftest import log_in, shot, stay_after_deciding
from tests.drafts.builders import run_previews
from tests.factories import PASSWORD, BatchFactory, make_draft
from tests.images import HOSTILE_CASES, jpeg_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}


def _in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    box = page.locator(selector).bounding_box()
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= page.viewport_size["height"]
    )


def _drop(page, files: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    """Drop files on the drop zone the way a browser does: a drop event carrying them."""
    payload = [[name, base64.b64encode(data).decode()] for name, data in files.items()]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type: "image/png" }));
            }
            return dt;
        }""",
        payload,
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_creator_uploads_drafts_in_two_rounds_and_sees_each_files_result(
    cast, page, tmp_path, size
):
    page.set_viewport_size(SIZES[size])
    first_round = {
        "can-on-rock.png": png_bytes(size=(640, 480), color=(20, 120, 130)),
        "citrus.jpg": jpeg_bytes(size=(480, 640), color=(230, 140, 40)),
        "broken.png": HOSTILE_CASES["truncated_png"]()[1],
    }
    for name, data in first_round.items():
        (tmp_path / name).write_bytes(data)
    log_in(page, "creator", PASSWORD)
    page.goto(f"/campaigns/{cast.campaign.pk}/upload/")

    # No batch named yet: the files wait behind one button that says where they will go.
    page.set_input_files("#files-input", [str(tmp_path / n) for n in first_round])
    expect(page.locator(".upload-item")).to_have_count(3)
    expect(page.locator("#upload-summary")).to_have_text("3 files waiting")
    page.fill("input[name=new_batch_name]", "Round 1")
    start = page.locator("#upload-start")
    expect(start).to_have_text("Upload 3 files to a new batch “Round 1”")
    shot(page, f"upload-waiting-{size}")
    assert _in_view(page, "#upload-start")
    start.click()
    expect(page.locator("#upload-summary")).to_have_text(
        "2 added, 0 duplicate, 1 not accepted (see below)"
    )
    expect(start).to_be_hidden()

    # The batch is now chosen: dropped files upload at once, and the summary keeps counting.
    expect(page.locator("#dropzone-hint")).to_contain_text("upload at once into “Round 1”")
    _drop(
        page,
        {
            "fjord.png": png_bytes(size=(500, 400), color=(40, 60, 200)),
            "notes.png": b"this is text, not an image",
            "label.png": png_bytes(size=(300, 300), color=(200, 200, 40)),
            "rock.png": png_bytes(size=(320, 240), color=(90, 90, 90)),
        },
    )
    expect(page.locator("#upload-summary")).to_have_text(
        "5 added, 0 duplicate, 2 not accepted (see below)"
    )
    expect(page.locator(".upload-item")).to_have_count(7)
    # Each added file shows its thumbnail, made by the browser from the file itself; the text
    # file has none to show.
    loaded = page.locator(".upload-item.status-added img.thumb").evaluate_all(
        "imgs => imgs.filter((i) => i.complete && i.naturalWidth > 0).length"
    )
    assert loaded == 5
    expect(page.locator(".upload-item:has-text('notes.png') .thumb-none")).to_have_count(1)
    rejected = page.locator(".upload-item.status-rejected")
    expect(rejected).to_have_count(2)
    expect(rejected.first).to_contain_text("truncated")
    expect(rejected.nth(1)).to_contain_text("not a recognised image")
    expect(page.locator(".upload-item.status-added a.name")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#upload-results").scroll_into_view_if_needed()
    shot(page, f"upload-results-{size}")
    assert Draft.objects.filter(batch__name="Round 1").count() == 5
    assert page.errors == []

    # Each result opens its draft.
    fjord = Draft.objects.get(original_name="fjord.png")
    page.click(".upload-item a.name >> text=fjord.png")
    expect(page).to_have_url(re.compile(rf"/drafts/{fjord.pk}/$"))

    # Previews appear in the grid without a reload once the worker has made them.
    page.goto(f"/batches/{fjord.batch_id}/")
    expect(page.locator(".tile")).to_have_count(5)
    run_previews()
    expect(page.locator(".tile img")).to_have_count(5, timeout=10_000)
    if size == "1440":
        shot(page, "batch-grid")


def test_a_reviewer_triages_a_batch_with_the_keyboard_and_decisions_survive_reload(
    cast, batch, page
):
    drafts = [
        make_draft(
            batch, name=f"draft-{i}.png", data=png_bytes(size=(800, 600), color=(i * 40, 90, 120))
        )
        for i in range(3)
    ]
    run_previews()
    stay_after_deciding("reviewer")
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/batches/{batch.pk}/")
    shot(page, "grid-before")
    page.click(".tile a >> nth=0")
    expect(page).to_have_url(re.compile(rf"/drafts/{drafts[0].pk}/"))

    # The quality check drives the guide's suggestion before anything is saved.
    page.click("[data-criterion=concept] .rating-pass span")
    page.click("[data-criterion=product_accuracy] .rating-pass span")
    page.click("[data-criterion=composition] .rating-pass span")
    expect(page.locator("#suggestion-decision")).to_have_text("Keep")
    shot(page, "review-screen")

    # The campaign's default rule: a reviewer's keep waits for an art director's sign-off.
    page.keyboard.press("k")
    expect(page.locator("#toast")).to_have_text("Saved: Keep (awaiting sign-off)")
    # The headline stays the decision that counts; the keep shows as waiting beside it.
    expect(page.locator("#current-decision")).to_have_text("Undecided")
    expect(page.locator("#proposed-decision")).to_contain_text("Keep (awaiting sign-off)")
    expect(page.locator("#proposed-decision")).to_contain_text("by reviewer")
    expect(page.locator("#review-history")).to_contain_text("Keep by reviewer")

    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/drafts/{drafts[1].pk}/"))
    page.keyboard.press("r")  # no note yet: refused, and the note field takes the focus
    expect(page.locator("#review-error")).to_contain_text("A note is required")
    page.keyboard.type("The can reads FJEL: regenerate with the label fixed")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#current-decision")).to_have_text("Regenerate")

    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/drafts/{drafts[2].pk}/"))
    page.fill("#review-note", "Glass bottle: the campaign is cans only")
    page.keyboard.press("Escape")
    page.keyboard.press("x")
    expect(page.locator("#current-decision")).to_have_text("Reject")

    page.keyboard.press("p")
    expect(page).to_have_url(re.compile(rf"/drafts/{drafts[1].pk}/"))
    page.reload()
    expect(page.locator("#current-decision")).to_have_text("Regenerate")
    expect(page.locator("#review-history")).to_contain_text("The can reads FJEL")

    page.goto(f"/batches/{batch.pk}/")
    # The keep does not count yet: its tile says so; regenerate and reject count at once.
    expect(page.locator(".tile.decision-keep")).to_have_count(0)
    expect(page.locator(".tile .awaiting-badge")).to_have_count(1)
    expect(page.locator(f".tile[data-draft-id='{drafts[0].pk}'] .awaiting-badge")).to_have_text(
        "Keep — awaiting sign-off"
    )
    expect(page.locator(".tile.decision-regenerate")).to_have_count(1)
    expect(page.locator(".tile.decision-reject")).to_have_count(1)
    shot(page, "grid-after")
    assert [(d.decision, d.proposed_decision) for d in Draft.objects.order_by("id")] == [
        ("", "keep"),
        ("regenerate", ""),
        ("reject", ""),
    ]
    assert page.errors == []


def test_the_viewer_zooms_to_real_pixels_and_pans(cast, batch, page):
    draft = make_draft(batch, data=png_bytes(size=(3000, 2000), color=(10, 60, 90)))
    run_previews()
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/")
    expect(page.locator("#zoom-level")).to_have_text("fit")
    page.keyboard.press("z")
    expect(page.locator("#zoom-level")).to_have_text("100 %")
    expect(page.locator("#stage-img")).to_have_attribute("src", re.compile("/original/"))
    box = page.locator("#stage-img").bounding_box()
    assert round(box["width"]) == 3000
    stage = page.locator("#stage").bounding_box()
    page.mouse.move(stage["x"] + 200, stage["y"] + 200)
    page.mouse.down()
    page.mouse.move(stage["x"] + 100, stage["y"] + 150)
    page.mouse.up()
    moved = page.locator("#stage-img").bounding_box()
    assert moved["x"] < box["x"]
    page.keyboard.press("0")
    expect(page.locator("#zoom-level")).to_have_text("fit")
    assert page.errors == []


def test_an_outsider_cannot_open_the_campaign_in_the_browser(cast, batch, page):
    draft = make_draft(batch)
    log_in(page, "outsider", PASSWORD)
    expect(page.locator("body")).not_to_contain_text("Fjell summer")
    response = page.goto(f"/drafts/{draft.pk}/")
    assert response.status == 404


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_reviewer_unfolds_every_pass_of_a_multi_pass_draft_without_losing_the_decision(
    cast, batch, page, width, height
):
    sample = Path(__file__).resolve().parents[1] / "workers" / "genmeta_samples"
    draft = make_draft(batch, data=(sample / "noisy_latents_3_subjects_cropped.png").read_bytes())
    run_previews()
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{draft.pk}/")
    passes = page.locator("details.passes")
    # Folded by default: six passes of prompts must not push the decision down the page.
    expect(passes).not_to_have_attribute("open", "")
    if width >= 1024:
        expect(page.locator('button[value="keep"]')).to_be_in_viewport()
    expect(passes.locator("summary")).to_have_text("6 passes, every prompt")
    passes.locator("summary").click()
    expect(passes.locator("li")).to_have_count(6)
    expect(passes.locator("li").nth(5)).to_contain_text("Pass 6 · sample_dpmpp_sde, node 73")
    passes.scroll_into_view_if_needed()
    shot(page, f"draft-passes-{width}")
    # The prompts wrap inside their column. (At 390 px the draft page as a whole is wider than
    # the screen with or without passes; that is the page layout's, not this block's.)
    assert passes.evaluate("el => el.scrollWidth <= el.clientWidth")
    if width >= 1024:
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert page.errors == []


def test_decisions_open_the_next_undecided_draft_and_the_last_one_the_batch_summary(
    cast, batch, page
):
    drafts = [
        make_draft(
            batch, name=f"flow-{i}.png", data=png_bytes(size=(640, 480), color=(i * 50, 80, 90))
        )
        for i in range(5)
    ]
    run_previews()
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/drafts/{drafts[0].pk}/")
    presses = 0
    for i, draft in enumerate(drafts):
        expect(page).to_have_url(re.compile(rf"/drafts/{draft.pk}/"))
        expect(page.locator("#after-decision")).to_have_text("open the next undecided draft")
        if i % 2:
            # Keyboard only: the refused R puts the focus in the note field.
            page.keyboard.press("r")
            expect(page.locator("#review-error")).to_contain_text("A note is required")
            page.keyboard.type("Label misspelt")
            page.keyboard.press("Escape")
            page.keyboard.press("r")
            presses += 3
        else:
            page.keyboard.press("k")
            presses += 1
    # The last decision has nothing undecided after it: the end-of-batch summary opens.
    expect(page).to_have_url(re.compile(rf"/batches/{batch.pk}/summary/"))
    expect(page.locator("[data-decision=keep] strong")).to_have_text("3")
    expect(page.locator("[data-decision=regenerate] strong")).to_have_text("2")
    expect(page.locator("[data-decision=undecided] strong")).to_have_text("0")
    assert presses == 9  # one key per keep, three per regenerate with its note
    for size in ({"width": 1440, "height": 900}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        shot(page, f"batch-summary-{size['width']}")
    assert page.errors == []


# A batch's triage as a reviewer does it all day: mostly keeps, some regenerations and rejects.
TRIAGE_PATTERN = ("keep", "keep", "regenerate", "keep", "reject")
DECISION_KEYS = {"keep": "k", "regenerate": "r", "reject": "x"}


def test_a_reviewer_triages_a_40_draft_batch_with_the_keyboard_only_to_the_summary(
    cast, batch, page
):
    drafts = [
        make_draft(
            batch,
            name=f"triage-{i:02d}.png",
            data=png_bytes(size=(160, 120), color=(i * 6, 120 - i * 2, 90 + i)),
        )
        for i in range(40)
    ]
    next_batch = BatchFactory(campaign=cast.campaign, name="Round 2")
    run_previews()
    plan = [TRIAGE_PATTERN[i % len(TRIAGE_PATTERN)] for i in range(len(drafts))]
    notes = {
        "regenerate": "Label reads FJEL: regenerate with the can's label fixed",
        "reject": "Glass bottle: the campaign is cans only",
    }
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{drafts[0].pk}/")

    presses = 0
    prompt_seen = False

    def press(key: str) -> None:
        nonlocal presses
        page.keyboard.press(key)
        presses += 1

    for draft, decision in zip(drafts, plan, strict=True):
        # "load": the page's scripts listen for keys by then.
        page.wait_for_url(re.compile(rf"/drafts/{draft.pk}/"))
        press(DECISION_KEYS[decision])
        if decision != "keep":
            # No note yet: the key puts the person in the note with what to do next.
            expect(page.locator("#review-note")).to_be_focused()
            expect(page.locator("#review-error")).to_contain_text(
                f"A note is required to {decision}: type it, then Ctrl+Enter"
            )
            if not prompt_seen:
                # The prompt and the note are in view where the person's eyes are.
                for size in ({"width": 390, "height": 844}, {"width": 1440, "height": 900}):
                    page.set_viewport_size(size)
                    expect(page.locator("#review-error")).to_be_in_viewport()
                    expect(page.locator("#review-note")).to_be_in_viewport()
                    shot(page, f"triage-note-prompt-{size['width']}")
                prompt_seen = True
            page.keyboard.type(notes[decision])  # the note's text is not counted as presses
            press("Control+Enter")

    # The last decision leaves nothing undecided: the summary, its next action focused.
    page.wait_for_url(re.compile(rf"/batches/{batch.pk}/summary/"))
    kept, regenerated, rejected = (plan.count(d) for d in ("keep", "regenerate", "reject"))
    assert (kept, regenerated, rejected) == (24, 8, 8)
    assert presses == kept + 2 * (regenerated + rejected)  # K; R or X then Ctrl+Enter
    # The reviewer's keeps wait for an art director's sign-off (the campaign's default rule):
    # they are not counted as kept yet, and the summary says they wait.
    expect(page.locator("[data-decision=keep] strong")).to_have_text("0")
    expect(page.locator("[data-decision=regenerate] strong")).to_have_text(str(regenerated))
    expect(page.locator("[data-decision=reject] strong")).to_have_text(str(rejected))
    expect(page.locator("[data-decision=undecided] strong")).to_have_text(str(kept))
    expect(page.locator("#summary-awaiting-count")).to_have_text(f"({kept} awaiting sign-off)")
    expect(page.locator("#summary-awaiting li")).to_have_count(kept)
    expect(page.locator("body")).to_contain_text("Still undecided (0)")
    expect(page.locator("#next-batch")).to_be_focused()

    # The database agrees with what was pressed, note for note.
    rows = {d.pk: d for d in Draft.objects.filter(batch=batch)}
    for draft, decision in zip(drafts, plan, strict=True):
        row = rows[draft.pk]
        if decision == "keep":
            assert (row.decision, row.proposed_decision) == ("", "keep")
        else:
            assert (row.decision, row.proposed_decision) == (decision, "")
    reviews = Review.objects.filter(draft__batch=batch)
    assert reviews.count() == len(drafts)
    assert set(reviews.values_list("reviewer__username", flat=True)) == {"reviewer"}
    for decision, note in notes.items():
        assert set(reviews.filter(decision=decision).values_list("note", flat=True)) == {note}

    for size in ({"width": 1440, "height": 900}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        expect(page.locator("#next-batch")).to_be_in_viewport()
        shot(page, f"triage-40-summary-{size['width']}")
    # Enter follows the focused next action: the next batch's grid.
    press("Enter")
    page.wait_for_url(re.compile(rf"/batches/{next_batch.pk}/"))
    assert page.errors == []


def test_an_art_director_signs_off_from_the_queue_with_the_keyboard(cast, batch, page):
    drafts = [make_draft(batch, name=f"ask-{i}.png") for i in range(3)]
    for draft in drafts:
        review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    run_previews()
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/campaigns/{cast.campaign.pk}/")
    page.click("#sign-off-queue-link")
    expect(page.locator("h1")).to_have_text("Awaiting your sign-off (3)")
    expect(page.locator(".sign-off-row.current")).to_have_count(1)
    for size in ({"width": 1440, "height": 900}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        shot(page, f"sign-off-queue-{size['width']}")
    page.keyboard.press("j")
    page.keyboard.press("s")  # signs off the second row only
    expect(page.locator("h1")).to_have_text("Awaiting your sign-off (2)")
    # The reloaded page's keys work once its script marked the current row (it runs deferred,
    # after the heading is already there).
    expect(page.locator(".sign-off-row.current")).to_have_count(1)
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    expect(page.locator("#sign-off-empty")).to_be_visible()
    assert (
        sorted(Draft.objects.filter(batch=batch).values_list("decision", flat=True)) == ["keep"] * 3
    )
    assert page.errors == []
