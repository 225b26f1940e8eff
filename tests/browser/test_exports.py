"""A producer takes a kept draft to its channels: marks the subject, adjusts one crop, exports,
and downloads the channel pack."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from apps.exports.models import CropOverride, ExportJob, FocalArea, Pack
from apps.exports.runs import export_run, pack_run
from apps.exports.services import preset_defaults_ensure
from tests.browser.conftest import log_in, shot
from tests.core.builders import run_queued
from tests.exports.builders import kept_draft
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _drag(page, start, end) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def test_a_producer_sets_the_subject_adjusts_a_crop_exports_and_downloads_the_pack(
    cast, batch, page
):
    preset_defaults_ensure()
    draft = kept_draft(batch, cast.art_director, size=(2600, 2100), name="can-on-rock.jpg")
    log_in(page, "producer", PASSWORD)

    # The draft page leads to the channel sheet.
    page.goto(f"/drafts/{draft.pk}/")
    page.click("#channel-sheet-link")
    expect(page).to_have_url(re.compile(rf"/drafts/{draft.pk}/channels/"))
    expect(page.locator(".sheet-card")).to_have_count(3)  # square, hero, hero 21:9
    expect(page.locator("#focal-box")).to_be_visible()
    shot(page, "exports-sheet-proposed")

    # Mark the subject: drag a box over the upper-left quarter of the picture, then save.
    img = page.locator("#focal-img").bounding_box()
    start = (img["x"] + img["width"] * 0.10, img["y"] + img["height"] * 0.10)
    end = (img["x"] + img["width"] * 0.40, img["y"] + img["height"] * 0.45)
    _drag(page, start, end)
    page.click("#focal-save")
    expect(page.locator("#focal-source")).to_contain_text("Set by producer")
    focal = FocalArea.objects.get(draft=draft)
    assert focal.source == "person"
    assert abs(focal.x - 260) <= 30 and abs(focal.y - 210) <= 30
    assert abs(focal.width - 780) <= 40 and abs(focal.height - 735) <= 40

    # Adjust the square crop: shrink it from its corner, then move it right.
    page.click(".sheet-card[data-preset=square] .crop-edit")
    expect(page.locator("#crop-box")).to_be_visible()
    shot(page, "exports-crop-before")
    handle = page.locator(".handle-se").bounding_box()
    corner = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    img = page.locator("#crop-img").bounding_box()
    _drag(page, corner, (corner[0] - img["width"] * 0.15, corner[1] - img["height"] * 0.15))
    box = page.locator("#crop-box").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # Half way, the warning already says the box cuts the subject: it follows the drag.
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + img["width"] * 0.1, middle[1], steps=4)
    expect(page.locator("#crop-subject-warning")).to_contain_text("cuts into the subject")
    page.mouse.move(middle[0] + img["width"] * 0.2, middle[1], steps=4)
    page.mouse.up()
    expect(page.locator("#crop-too-small")).to_be_hidden()
    expect(page.locator("#crop-subject-warning")).to_be_visible()
    shot(page, "exports-crop-after")
    page.click("#crop-save")
    expect(page).to_have_url(re.compile(rf"/drafts/{draft.pk}/channels/$"))
    override = CropOverride.objects.get(draft=draft, preset__slug="square")
    assert override.width == override.height
    assert 1080 <= override.width < 2000
    assert override.x > 500
    expect(page.locator(".sheet-card[data-preset=square]")).to_contain_text("cropped by hand")

    # Export: the sheet polls the job and shows every channel's file once it is done.
    page.click("#export-button")
    expect(page.locator("#export-job")).to_contain_text("Queued")
    run_queued(ExportJob, export_run)
    expect(page.locator(".sheet-card .ok-mark")).to_have_count(3, timeout=15_000)
    shot(page, "exports-sheet-exported")

    # Build the pack, then download it from the Packs page.
    page.click("#pack-button")
    expect(page).to_have_url(re.compile(rf"/campaigns/{cast.campaign.pk}/packs/"))
    run_queued(Pack, pack_run)
    download_link = page.locator(".pack-download")
    expect(download_link).to_have_count(1, timeout=15_000)
    shot(page, "exports-packs")
    with page.expect_download() as info:
        download_link.click()
    with open(info.value.path(), "rb") as fh:
        data = fh.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
    square = next(f for f in manifest["files"] if f.get("preset") == "square")
    assert square["crop_box"] == [override.x, override.y, override.width, override.height]
    assert f"source/fjell-summer_can-on-rock-d{draft.pk}_original.jpg" in names
    assert sum(1 for f in manifest["files"] if f["role"] == "export") == 3

    # The record of the finished asset, in order, with its exports.
    page.goto(f"/drafts/{draft.pk}/record/")
    expect(page.locator("#record-exports tbody tr")).to_have_count(3)
    shot(page, "exports-record")
    assert page.errors == []
