import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from sd_parsers.parsers import NovelAIParser

from apps.campaigns.models import AuditEvent
from apps.core.models import JobStatus
from apps.drafts.models import Draft
from apps.drafts.services import draft_intake
from tests.factories import make_draft
from tests.images import EXPECTED, HOSTILE_CASES, jpeg_bytes, png_bytes

A1111 = (
    "a teal can of Fjell on a mossy rock, morning light\n"
    "Negative prompt: blurry, purple\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 96x64, "
    "Model: sdxl-demo"
)


def test_a_good_png_is_stored_under_a_generated_key_with_its_facts_and_prompt(batch):
    data = png_bytes(size=(96, 64), text={"parameters": A1111})
    result = draft_intake(batch=batch, uploaded_by=None, name="../../etc/passwd.png", upload=data)
    assert result.status == "added"
    draft = result.draft
    assert draft.original_name == "passwd.png"
    assert "passwd" not in draft.file_key and draft.file_key.endswith(draft.sha256 + ".png")
    assert default_storage.exists(draft.file_key)
    assert (draft.width, draft.height, draft.format) == (96, 64, "PNG")
    assert draft.prompt.startswith("a teal can of Fjell")
    assert draft.negative_prompt == "blurry, purple"
    assert draft.seed == 1234567
    assert draft.model_name == "sdxl-demo"
    assert draft.generator == "Automatic1111"


def test_the_same_file_twice_in_a_campaign_is_reported_as_a_duplicate_not_stored_twice(batch):
    data = png_bytes(size=(32, 32), color=(1, 2, 3))
    first = draft_intake(batch=batch, uploaded_by=None, name="a.png", upload=data)
    second = draft_intake(batch=batch, uploaded_by=None, name="copy of a.png", upload=data)
    assert second.status == "duplicate"
    assert "a.png" in second.message
    assert second.draft == first.draft
    assert Draft.objects.count() == 1


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_each_hostile_or_odd_file_gets_its_stated_result(batch, case):
    name, data = HOSTILE_CASES[case]()
    result = draft_intake(batch=batch, uploaded_by=None, name=name, upload=data)
    if EXPECTED[case] == "ok":
        assert result.status == "added", result.message
        assert len(result.draft.original_name) <= 200
    else:
        assert result.status == "rejected"
        assert result.code == EXPECTED[case]
        assert result.message.endswith(".")
        assert not Draft.objects.exists()


def test_a_bad_file_does_not_affect_the_good_files_of_its_batch(batch):
    files = [
        ("good-1.png", png_bytes(color=(10, 20, 30))),
        HOSTILE_CASES["truncated_png"](),
        ("good-2.jpg", jpeg_bytes(color=(200, 20, 30))),
        HOSTILE_CASES["svg"](),
    ]
    results = [draft_intake(batch=batch, uploaded_by=None, name=n, upload=d) for n, d in files]
    assert [r.status for r in results] == ["added", "rejected", "added", "rejected"]
    assert batch.drafts.count() == 2


def test_exif_orientation_is_applied_to_the_recorded_dimensions(batch):
    name, data = HOSTILE_CASES["exif_rotated_jpeg"]()
    draft = draft_intake(batch=batch, uploaded_by=None, name=name, upload=data).draft
    assert (draft.width, draft.height, draft.exif_orientation) == (48, 64, 6)


def test_cmyk_and_sixteen_bit_files_record_their_colour_facts(batch):
    cmyk = draft_intake(
        batch=batch, uploaded_by=None, name="c.jpg", upload=HOSTILE_CASES["cmyk_jpeg"]()[1]
    ).draft
    deep = draft_intake(
        batch=batch, uploaded_by=None, name="d.png", upload=HOSTILE_CASES["png_16bit"]()[1]
    ).draft
    pal = draft_intake(
        batch=batch,
        uploaded_by=None,
        name="p.png",
        upload=HOSTILE_CASES["palette_transparency"]()[1],
    ).draft
    assert cmyk.mode == "CMYK"
    assert deep.bit_depth == 16
    assert pal.has_alpha


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(batch, settings):
    settings.DRAFTROOM_MAX_UPLOAD_BYTES = 1000
    result = draft_intake(batch=batch, uploaded_by=None, name="x.png", upload=b"x", size=5000)
    assert (result.status, result.code) == ("rejected", "too_large")


def test_intake_records_who_added_what_in_the_audit_trail(cast, batch):
    make_draft(batch, name="hero.png", by=cast.creator)
    event = AuditEvent.objects.get(verb="draft.uploaded")
    assert event.actor == cast.creator and "hero.png" in event.summary


def test_intake_queues_a_preview_job_that_is_dispatched_after_commit(
    batch, django_capture_on_commit_callbacks, mocker
):
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draft = make_draft(batch)
    send.assert_not_called()  # nothing leaves before the transaction commits
    assert draft.preview_job.status == JobStatus.QUEUED
    for callback in callbacks:
        callback()
    # Other apps may queue their own work on intake (checks); the preview goes exactly once.
    (call,) = [
        c for c in send.call_args_list if c.args[0] == "apps.drafts.tasks.draft_preview_task"
    ]
    assert json.loads(json.dumps(call.kwargs["args"])) == [draft.preview_job.pk]
    assert call.kwargs["queue"] == "default"


def test_a_polyglot_is_stored_without_the_payload_glued_to_its_end(batch):
    image = png_bytes(size=(40, 30), color=(1, 2, 3))
    payload = b"<html><script>alert(document.cookie)</script></html>PK\x03\x04zipzip"
    result = draft_intake(batch=batch, uploaded_by=None, name="cute.png", upload=image + payload)
    assert result.status == "added"
    assert f"removed {len(payload)} bytes appended after the image" in result.message
    with default_storage.open(result.draft.file_key, "rb") as fh:
        assert fh.read() == image
    assert result.draft.byte_size == len(image)


def test_a_storage_failure_is_a_clear_retryable_error_for_that_file_only(batch, mocker):
    good = draft_intake(
        batch=batch, uploaded_by=None, name="a.png", upload=png_bytes(color=(4, 4, 4))
    )
    mocker.patch.object(default_storage, "save", side_effect=OSError(28, "No space left on device"))
    failed = draft_intake(
        batch=batch, uploaded_by=None, name="b.png", upload=png_bytes(color=(5, 5, 5))
    )
    assert (failed.status, failed.code) == ("error", "storage")
    assert "try this file again" in failed.message
    assert list(batch.drafts.all()) == [good.draft]  # nothing half-recorded


GENMETA_SAMPLES = Path(__file__).resolve().parent.parent / "workers" / "genmeta_samples"


def test_a_multi_pass_comfyui_file_records_every_pass_with_its_label_and_prompts(batch):
    data = (GENMETA_SAMPLES / "unclip_2pass_cropped.png").read_bytes()
    draft = draft_intake(batch=batch, uploaded_by=None, name="two.png", upload=data).draft
    draft.refresh_from_db()
    assert draft.generator == "ComfyUI"
    assert [step["label"] for step in draft.generation_passes] == [
        "Pass 1 · uni_pc_bh2, node 3",
        "Pass 2 · dpmpp_sde, node 41",
    ]
    assert draft.generation_passes[1]["prompts"] == [
        "beautiful scenery landscape outdoors mountains"
    ]
    assert draft.generation_passes[1]["seed"] == 119080905858220


def test_an_invokeai_file_records_what_sd_parsers_read(batch):
    data = (GENMETA_SAMPLES / "invokeai_imeta1.png").read_bytes()
    result = draft_intake(batch=batch, uploaded_by=None, name="invoke.png", upload=data)
    draft = result.draft
    assert (draft.generator, draft.model_name) == ("InvokeAI", "juggernautXL")
    assert draft.seed == 3293022630
    assert draft.metadata_sources == ["png:invokeai_metadata (sd-parsers)"]
    assert "png:invokeai_metadata (sd-parsers)" in result.message
    assert draft.generation_passes == []


def test_a_metadata_parser_that_fails_never_fails_the_upload_and_the_uploader_is_told(
    batch, monkeypatch
):
    def boom(*_args, **_kwargs):
        raise RuntimeError("a bug in a parser")

    monkeypatch.setattr(NovelAIParser, "parse", boom)
    data = (GENMETA_SAMPLES / "novelai1_cropped.png").read_bytes()
    result = draft_intake(batch=batch, uploaded_by=None, name="nai.png", upload=data)
    assert result.status == "added"
    assert result.draft.prompt == "masterpiece, best quality,  cat, space, icon"
    assert "sd-parsers failed on png:Comment, png:Description, png:Source (RuntimeError)" in (
        result.message
    )
