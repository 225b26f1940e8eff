"""The compare component in headless Chromium: a 512² draft and its 1024² regeneration line up
in both panes at fit and at 100 %, with their parameter diff; the upscale result opens at fit
with the divider centred. Positions are read from what the page drew: the images' boxes and the
landmark's pixels in a screenshot."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, ViewportSize, expect

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from apps.upscales.services import upscale_request
from tests.browser.conftest import log_in, shot
from tests.drafts.builders import run_previews
from tests.factories import PASSWORD, make_draft
from tests.images import encode_png, pattern_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A small magenta square drawn at the same fraction of every test image: no other pixel of the
# test card is magenta, so its centre can be found in a screenshot.
LANDMARK = (0.6, 0.45)
LANDMARK_SIZE = 0.04
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
Point = tuple[float, float]


def _with_landmark(side: int) -> bytes:
    image = pattern_image((side, side))
    half = LANDMARK_SIZE * side / 2
    cx, cy = LANDMARK[0] * side, LANDMARK[1] * side
    ImageDraw.Draw(image).rectangle(
        (round(cx - half), round(cy - half), round(cx + half) - 1, round(cy + half) - 1),
        fill=(255, 0, 255),
    )
    return encode_png(image)


def _boxes(page: Page) -> dict[str, Any]:
    """Each side's drawn image box and its pane box, in page pixels."""
    return page.evaluate(
        """() => {
          const out = {};
          for (const side of ["a", "b"]) {
            const pane = document.querySelector(`.cmp-pane[data-side="${side}"]`);
            const box = (el) => { const r = el.getBoundingClientRect();
              return {x: r.x, y: r.y, width: r.width, height: r.height}; };
            out[side] = {img: box(pane.querySelector(".cmp-img")), pane: box(pane)};
          }
          const r = document.querySelector(".cmp-stage").getBoundingClientRect();
          out.stage = {x: r.x, y: r.y, width: r.width, height: r.height};
          return out;
        }"""
    )


def _landmark_from_boxes(box: dict[str, Any]) -> Point:
    img = box["img"]
    return img["x"] + LANDMARK[0] * img["width"], img["y"] + LANDMARK[1] * img["height"]


def _landmark_in_pixels(screenshot: Image.Image, region: dict[str, float]) -> Point:
    """The centre of the magenta pixels inside a page region (a pane, or part of one)."""
    left, top = max(0, int(region["x"])), max(0, int(region["y"]))
    right = min(screenshot.width, int(region["x"] + region["width"]))
    bottom = min(screenshot.height, int(region["y"] + region["height"]))
    crop = screenshot.crop((left, top, right, bottom)).convert("RGB")
    xs, ys = [], []
    raw = crop.tobytes()
    for i in range(0, len(raw), 3):
        if raw[i] > 190 and raw[i + 1] < 90 and raw[i + 2] > 190:
            xs.append(i // 3 % crop.width)
            ys.append(i // 3 // crop.width)
    assert xs, "the landmark is not on screen"
    return left + (min(xs) + max(xs) + 1) / 2, top + (min(ys) + max(ys) + 1) / 2


def _assert_landmarks_line_up(page: Page, mode: str) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cmp-img')].every(i => i.complete && i.naturalWidth)"
    )
    boxes = _boxes(page)
    shot_png = Image.open(io.BytesIO(page.screenshot()))
    found = {}
    for side in ("a", "b"):
        pane = boxes[side]["pane"]
        region = dict(pane)
        if mode == "wipe":
            # Each side shows only its own part of the stage: left of the divider, the left image.
            half = boxes["stage"]["width"] / 2
            region["width"] = half
            if side == "b":
                region["x"] = pane["x"] + half
        from_boxes = _landmark_from_boxes(boxes[side])
        drawn = _landmark_in_pixels(shot_png, region) if _inside(from_boxes, region) else None
        found[side] = (from_boxes, drawn, pane)
    (a_box, a_drawn, a_pane), (b_box, b_drawn, b_pane) = found["a"], found["b"]
    # The same point of both images sits at the same place in its pane...
    assert a_box[0] - a_pane["x"] == pytest.approx(b_box[0] - b_pane["x"], abs=2)
    assert a_box[1] - a_pane["y"] == pytest.approx(b_box[1] - b_pane["y"], abs=2)
    # ...and the pixels drawn there are the landmark's (where it is on the visible side).
    for box_point, drawn in ((a_box, a_drawn), (b_box, b_drawn)):
        if drawn is not None:
            assert drawn[0] == pytest.approx(box_point[0], abs=2)
            assert drawn[1] == pytest.approx(box_point[1], abs=2)
    assert a_drawn is not None or b_drawn is not None
    # Both sides are drawn at one size, whatever their pixel sizes.
    assert boxes["a"]["img"]["width"] == pytest.approx(boxes["b"]["img"]["width"], abs=0.5)
    assert boxes["a"]["img"]["height"] == pytest.approx(boxes["b"]["img"]["height"], abs=0.5)


def _inside(point: Point, region: dict[str, float]) -> bool:
    margin = 12
    return (
        region["x"] + margin <= point[0] <= region["x"] + region["width"] - margin
        and region["y"] + margin <= point[1] <= region["y"] + region["height"] - margin
    )


def _nothing_wider_than_the_screen(page: Page) -> None:
    """Nothing in the page's main area reaches past the right edge (the top bar is base.html's,
    checked by the review page's tests)."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll("main, main *")]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter(el => !el.closest(".cmp-pane"))  // images are clipped by their pane
            .map(el => el.tagName + "." + el.className)"""
    )
    assert wide == []
    assert page.evaluate("() => document.querySelector('main').scrollWidth <= window.innerWidth")


@pytest.fixture
def regeneration(cast: Any, batch: Any) -> tuple[Draft, Draft]:
    parent = make_draft(batch, name="can-512.png", data=_with_landmark(512), by=cast.creator)
    child = make_draft(
        batch, name="can-1024.png", data=_with_landmark(1024), by=cast.creator, parent=parent
    )
    Draft.objects.filter(pk=parent.pk).update(
        prompt="a red can on a mossy rock, morning light",
        seed=1234,
        model_name="sdxl-base",
        parameters={"Steps": 30, "Sampler": "DPM++ 2M", "CFG scale": 7},
    )
    Draft.objects.filter(pk=child.pk).update(
        prompt="a red can on a wet rock, morning light",
        seed=98765,
        model_name="sdxl-base",
        parameters={"Steps": 30, "Sampler": "DPM++ 2M", "CFG scale": 5.5},
    )
    run_previews()
    return parent, child


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_a_512_draft_and_its_1024_regeneration_line_up_at_fit_and_at_100_percent(
    page, cast, regeneration, viewport
):
    parent, child = regeneration
    size = f"{viewport['width']}"
    page.set_viewport_size(viewport)
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{child.pk}/")
    page.click("#compare-link")
    expect(page.locator("#compare-a")).to_have_value(f"d{parent.pk}")
    expect(page.locator("#compare-b")).to_have_value(f"d{child.pk}")
    level = page.locator('[data-cmp="level"]')
    expect(level).to_have_text("fit")
    expect(page.locator('.cmp-pane[data-side="a"] .cmp-label')).to_contain_text("512×512")
    expect(page.locator('.cmp-pane[data-side="b"] .cmp-label')).to_contain_text("1024×1024")

    # Side by side at fit, then at 100 % of the larger image: the 1024² one at its real pixels,
    # the 512² one scaled to match.
    _assert_landmarks_line_up(page, "side")
    shot(page, f"compare-{size}-side-fit")
    page.keyboard.press("z")
    expect(level).to_have_text("100 %")
    boxes = _boxes(page)
    assert round(boxes["b"]["img"]["width"]) == 1024 == round(boxes["a"]["img"]["width"])
    label_a = page.locator('.cmp-pane[data-side="a"] .cmp-label')
    label_b = page.locator('.cmp-pane[data-side="b"] .cmp-label')
    expect(label_a).to_contain_text("512×512 at 200 %")
    expect(label_b).to_contain_text("1024×1024 at 100 %")
    _assert_landmarks_line_up(page, "side")
    shot(page, f"compare-{size}-side-100")

    # Drag to pan: both move together and stay lined up.
    pane_b = boxes["b"]["pane"]
    start = (pane_b["x"] + pane_b["width"] * 0.5, pane_b["y"] + pane_b["height"] * 0.5)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 40, start[1] - 30, steps=5)
    page.mouse.up()
    moved = _boxes(page)
    assert moved["a"]["img"]["x"] == pytest.approx(boxes["a"]["img"]["x"] - 40, abs=1)
    assert moved["b"]["img"]["y"] == pytest.approx(boxes["b"]["img"]["y"] - 30, abs=1)
    _assert_landmarks_line_up(page, "side")

    # The wipe, at fit with the divider centred, then at 100 %.
    page.keyboard.press("1")
    page.keyboard.press("0")
    expect(level).to_have_text("fit")
    stage = _boxes(page)["stage"]
    divider = page.locator('[data-cmp="divider"]').bounding_box()
    assert divider["x"] + divider["width"] / 2 == pytest.approx(
        stage["x"] + stage["width"] / 2, abs=1
    )
    _assert_landmarks_line_up(page, "wipe")
    shot(page, f"compare-{size}-wipe-fit")
    page.keyboard.press("z")
    _assert_landmarks_line_up(page, "wipe")
    shot(page, f"compare-{size}-wipe-100")

    # Onion skin: the right image over the left at the slider's opacity.
    page.keyboard.press("3")
    page.locator('[data-cmp="opacity"]').fill("30")
    assert page.locator('.cmp-pane[data-side="b"]').evaluate("el => el.style.opacity") == "0.3"
    _assert_landmarks_line_up(page, "onion")

    # The parameter diff marks what differs; a swap trades the sides everywhere.
    diff = page.locator("#generation-diff")
    expect(diff.locator(".diff-row.differs dt")).to_contain_text(["Real size", "Prompt", "Seed"])
    expect(diff.locator(".diff-row:not(.differs) dt")).to_contain_text(["Model", "Sampler"])
    prompt = diff.locator(".diff-row").filter(has=page.locator("dt", has_text="Prompt"))
    expect(prompt.locator("mark")).to_have_text(["mossy", "wet"])
    page.keyboard.press("s")
    expect(page.locator("#compare-a")).to_have_value(f"d{child.pk}")
    expect(page.locator('.cmp-pane[data-side="a"] .cmp-label')).to_contain_text("1024×1024")
    expect(prompt.locator("mark")).to_have_text(["wet", "mossy"])
    _assert_landmarks_line_up(page, "onion")
    page.keyboard.press("2")
    page.keyboard.press("0")
    if viewport is PHONE:
        page.locator("#compare-diff").scroll_into_view_if_needed()
        shot(page, f"compare-{size}-diff")
        page.evaluate("() => window.scrollTo(0, 0)")
    _nothing_wider_than_the_screen(page)
    page.reload()  # the mode and the pair are in the address
    expect(page.locator('[data-cmp-mode="side"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#compare-a")).to_have_value(f"d{child.pk}")
    assert page.errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_the_upscale_result_opens_at_fit_with_the_divider_centred(page, cast, batch, viewport):
    draft = make_draft(batch, name="hero.png", data=_with_landmark(256))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=4)
    upscale_run(job_id=job.pk)
    assert UpscaleJob.objects.get(pk=job.pk).status == JobStatus.DONE
    size = f"{viewport['width']}"
    page.set_viewport_size(viewport)
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/upscales/{job.pk}/")
    level = page.locator('[data-cmp="level"]')
    expect(level).to_have_text("fit")
    boxes = _boxes(page)
    stage = boxes["stage"]
    # The whole 1024² result is in view, centred, the source drawn over the same box.
    img = boxes["b"]["img"]
    assert img["width"] <= stage["width"] + 0.5 and img["height"] <= stage["height"] + 0.5
    assert img["x"] + img["width"] / 2 == pytest.approx(stage["x"] + stage["width"] / 2, abs=1)
    assert img["y"] + img["height"] / 2 == pytest.approx(stage["y"] + stage["height"] / 2, abs=1)
    divider = page.locator('[data-cmp="divider"]').bounding_box()
    assert divider["x"] + divider["width"] / 2 == pytest.approx(
        stage["x"] + stage["width"] / 2, abs=1
    )
    _assert_landmarks_line_up(page, "wipe")
    assert page.get_by_role("link", name="Compare").count() == 0  # no link to itself
    shot(page, f"upscale-wipe-{size}-fit")

    # 100 % is the result's real pixels; drag pans; the divider follows a drag on its grip.
    page.locator('[data-cmp="actual"]').click()
    expect(level).to_have_text("100 %")
    assert round(_boxes(page)["b"]["img"]["width"]) == 1024
    _assert_landmarks_line_up(page, "wipe")
    grip = page.locator('[data-cmp="divider"]').bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] * 0.25, grip["y"] + grip["height"] / 2, steps=4)
    page.mouse.up()
    clip = page.locator('.cmp-pane[data-side="b"]').evaluate("el => el.style.clipPath")
    assert clip.startswith("inset(0px 0px 0px ")
    assert float(clip.split()[-1].rstrip("px)")) == pytest.approx(stage["width"] * 0.25, abs=2)
    _nothing_wider_than_the_screen(page)

    # From the draft page, "Compare" opens it at fit and "Compare at 100 %" at 100 %.
    page.goto(f"/drafts/{draft.pk}/")
    card = page.locator(f"#upscale-job-{job.pk}")
    card.scroll_into_view_if_needed()
    card.get_by_role("link", name="Compare", exact=True).click()
    expect(level).to_have_text("fit")
    page.go_back()
    card.get_by_role("link", name="Compare at 100 %", exact=True).click()
    expect(level).to_have_text("100 %")
    shot(page, f"upscale-wipe-{size}-100")
    assert page.errors == []


def test_on_a_phone_a_finger_pans_and_a_pinch_zooms_both_sides_together(
    page: Any, cast: Any, regeneration: tuple[Draft, Draft]
) -> None:
    _parent, child = regeneration
    page.set_viewport_size(PHONE)
    log_in(page, "reviewer", PASSWORD)
    page.goto(f"/drafts/{child.pk}/compare/?mode=side&zoom=100")
    level = page.locator('[data-cmp="level"]')
    expect(level).to_have_text("100 %")
    # Real touches, as the phone's browser sends them (Chromium turns them into pointer events).
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})

    def touch(kind: str, *points: Point) -> None:
        cdp.send(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)],
            },
        )

    before = _boxes(page)
    pane = before["b"]["pane"]
    x, y = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
    touch("touchStart", (x, y))
    for step in range(1, 6):
        touch("touchMove", (x - 10 * step, y - 6 * step))
    touch("touchEnd")
    after = _boxes(page)
    for side in ("a", "b"):
        assert after[side]["img"]["x"] == pytest.approx(before[side]["img"]["x"] - 50, abs=1)
        assert after[side]["img"]["y"] == pytest.approx(before[side]["img"]["y"] - 30, abs=1)
    _assert_landmarks_line_up(page, "side")

    # Two fingers moving apart zoom in around the point between them, in both panes.
    def under_fingers(boxes: dict[str, Any]) -> Point:
        img = boxes["b"]["img"]
        return (x - img["x"]) / img["width"], (y - img["y"]) / img["height"]

    held = under_fingers(after)
    touch("touchStart", (x - 20, y), (x + 20, y))
    for step in range(1, 6):
        touch("touchMove", (x - 20 - 4 * step, y), (x + 20 + 4 * step, y))
    touch("touchEnd")
    expect(level).to_have_text("200 %")
    pinched = _boxes(page)
    assert under_fingers(pinched) == pytest.approx(held, abs=0.002)
    for key in ("x", "y"):
        assert pinched["a"]["img"][key] - pinched["a"]["pane"][key] == pytest.approx(
            pinched["b"]["img"][key] - pinched["b"]["pane"][key], abs=1
        )
    assert page.errors == []
