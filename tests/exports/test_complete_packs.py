"""Complete packs: every target channel, the whole record, hashes and the published schema."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from apps.core.models import JobStatus
from apps.drafts.services import draft_revision_add, reference_add_file, reference_add_url
from apps.exports.masters import Master
from apps.exports.models import ChannelVersion
from apps.exports.runs import pack_run
from apps.exports.selectors import pack_checklist, presets_for_campaign
from apps.exports.services import PackIncomplete, pack_queue
from apps.reviews.services import review_sign_off, review_submit
from apps.sharing.services import client_answer, share_link_create
from tests.drafts.builders import run_previews
from tests.exports.builders import kept_draft
from tests.factories import make_draft
from tests.images import encode_jpeg, encode_png, pattern_image
from workers.packs import MANIFEST_NAME

SCHEMA = json.loads((Path(settings.BASE_DIR) / "docs" / "manifest.schema.json").read_text())


def _built(pack):
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.DONE, pack.error
    with default_storage.open(pack.output_key, "rb") as fh:
        return zipfile.ZipFile(io.BytesIO(fh.read()))


def _checked_manifest(archive: zipfile.ZipFile) -> dict:
    """The manifest, validated against docs/manifest.schema.json, with every member's hash and
    size checked against the bytes in the zip."""
    manifest = json.loads(archive.read(MANIFEST_NAME))
    jsonschema.validate(manifest, SCHEMA)
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) | {MANIFEST_NAME} == set(archive.namelist())
    for name, entry in listed.items():
        body = archive.read(name)
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], name
        assert len(body) == entry["bytes"]
    return manifest


def _edited_kept_draft(cast, batch):
    """A draft the generator made, with a reference file, a reference URL and one edit, kept
    by a reviewer and signed off by the art director; never exported."""
    draft = make_draft(
        batch, name="Fjell can, summer.png", data=encode_png(pattern_image((2600, 2100)))
    )
    run_previews()
    generated_sha = draft.sha256
    reference_add_file(
        draft=draft,
        name="mood board.png",
        data=encode_png(pattern_image((300, 200))),
        by=cast.creator,
    )
    reference_add_url(draft=draft, url="https://example.com/brand-guide", by=cast.creator)
    image = pattern_image((2600, 2100))
    image.putpixel((10, 10), (1, 2, 3))
    draft_revision_add(
        draft=draft, uploaded_by=cast.creator, name="retouched.jpg", upload=encode_jpeg(image),
        note="Cleaned the label edge",
    )  # fmt: skip
    run_previews()
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep", note="Label reads well")
    review_sign_off(draft=draft, by=cast.art_director)
    link, _token = share_link_create(
        campaign=cast.campaign, by=cast.producer, title="Client round", drafts=[draft]
    )
    client_answer(link=link, draft=draft, name="Kari Client", email="kari@example.com",
                  verdict="approved", comment="Go")  # fmt: skip
    draft.refresh_from_db()
    assert draft.decision == "keep" and draft.sha256 != generated_sha
    return draft, generated_sha


def test_a_never_exported_draft_is_exported_by_the_pack_and_the_zip_holds_the_whole_record(
    cast, batch
):
    draft, generated_sha = _edited_kept_draft(cast, batch)
    assert not ChannelVersion.objects.filter(draft=draft).exists()
    [checklist] = pack_checklist([draft])
    assert checklist.left_out == [] and len(checklist.to_export) == 3

    archive = _built(pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer))
    manifest = _checked_manifest(archive)
    files = manifest["files"]
    by_role: dict[str, list[dict]] = {}
    for entry in files:
        by_role.setdefault(entry["role"], []).append(entry)

    targets = {p.slug for p in presets_for_campaign(cast.campaign)}
    assert {e["preset"] for e in by_role["export"]} == targets == {"square", "hero", "hero_wide"}
    assert manifest["left_out"] == []
    [source] = by_role["source"]
    assert source["sha256"] == generated_sha  # the generated original, not the edit
    assert source["name"].startswith("source/fjell-summer_fjell-can-summer-d")
    [edit] = by_role["edit"]
    assert edit["name"].startswith("edits/") and edit["sha256"] == draft.sha256
    assert edit["note"] == "Cleaned the label edge" and edit["revision"] == 2
    [reference] = by_role["reference"]
    assert reference["name"].startswith("references/") and "mood-board" in reference["name"]

    [asset] = manifest["assets"]
    assert asset["source"]["sha256"] == generated_sha
    assert [e["sha256"] for e in asset["edits"]] == [draft.sha256]
    assert {r["url"] for r in asset["references"]} == {None, "https://example.com/brand-guide"}
    assert asset["decision"]["by"] == "reviewer"
    assert asset["decision"]["signed_off_by"] == "art_director"
    assert asset["decision"]["signed_off_at"]
    assert {r["reviewer"] for r in asset["reviews"]} == {"reviewer"}
    [node] = asset["lineage_tree"]
    assert [e["revision"] for e in node["edits"]] == [2]
    assert {e["preset"] for e in node["exports"]} == targets
    [answer] = asset["client_approvals"]
    assert (answer["verdict"], answer["by"]) == ("approved", "Kari Client")
    assert asset["disclosure"]["digital_source_type"].endswith(
        "compositeWithTrainedAlgorithmicMedia"
    )


def test_a_classical_upscale_is_recorded_as_classical_not_neural():
    def upscaled(**kw):
        return Master("k", 2, 2, "0" * 64, "PNG", "upscaled", "x", **kw)

    assert upscaled(upscale_model="lanczos").weights_label == "classical, not neural"
    assert (
        upscaled(upscale_model="x4", upscale_neural=True, upscale_weights_sha256="ab").weights_label
        == "ab"
    )
    assert upscaled(upscale_model="x4", upscale_neural=True).weights_label is None
    assert Master("k", 2, 2, "0" * 64, "PNG", "original", "x").weights_label is None


def test_rebuilding_a_pack_gives_the_same_file_names(cast, batch):
    draft = kept_draft(batch, cast.art_director, name="Can 1.jpg")
    first = _built(pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer)).namelist()
    second = _built(pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer)).namelist()
    assert first == second
    assert f"exports/fjell-summer_can-1-d{draft.pk}_square_1080x1080.jpg" in first


def test_a_channel_that_cannot_be_made_is_refused_with_the_checklist_then_listed_as_left_out(
    cast, batch
):
    draft = kept_draft(batch, cast.art_director, size=(1200, 900))
    with pytest.raises(PackIncomplete) as refused:
        pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer)
    [checklist] = refused.value.checklist
    left_out = {item.preset.slug for item in checklist.left_out}
    assert left_out and all("Too small" in item.reason for item in checklist.left_out)

    pack = pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer, without_missing=True)
    manifest = _checked_manifest(_built(pack))
    assert {item["preset"] for item in manifest["left_out"]} == left_out
    assert all(item["reason"].startswith("Too small") for item in manifest["left_out"])
    exported = {f["preset"] for f in manifest["files"] if f["role"] == "export"}
    assert exported | left_out == {p.slug for p in presets_for_campaign(cast.campaign)}
