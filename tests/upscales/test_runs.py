"""Running upscale jobs against the database (apps.upscales.runs).

The job runs here as a plain function (the classical upscaler, or a tiny real checkpoint when
torch and basicsr are installed): output, reuse, failures, the worker's refusals, cancel, and
the gpu worker's turn-taking and compile reports.
"""

from __future__ import annotations

import hashlib
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from apps.campaigns.models import Membership
from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from apps.upscales.services import upscale_cancel, upscale_request
from tests.images import encode_png, pattern_image
from tests.upscales.builders import kept_draft


def test_running_a_job_publishes_a_png_and_records_the_model(cast, batch):
    draft = kept_draft(batch, data=encode_png(pattern_image((40, 30))))
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2.5)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.progress == 1.0
    assert job.used_model == "classical" and not job.neural and job.weights_sha256 == ""
    assert (job.output_width, job.output_height) == (100, 75)
    assert job.output_key.startswith(f"campaigns/{draft.campaign_id}/upscales/")
    assert draft.sha256 in job.output_key and job.output_key.endswith("-classical-x2.5-none.png")
    with default_storage.open(job.output_key, "rb") as fh, Image.open(fh) as im:
        assert im.size == (100, 75) and im.format == "PNG"
    assert {"read", "decode", "infer", "encode", "store"} <= set(job.timings)
    folder, name = job.output_key.rsplit("/", 1)
    assert default_storage.listdir(folder)[1] == [name]  # no part file left beside it


def test_a_repeated_job_reuses_the_published_file(cast, batch, mocker):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=None, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    UpscaleJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, attempts=0)
    engine = mocker.patch("apps.upscales.runs.upscale_to_png")
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    engine.assert_not_called()
    assert job.status == JobStatus.DONE and "already existed" in " ".join(job.notes)


def test_a_failed_run_leaves_no_file_and_a_clear_error(cast, batch, mocker):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=None, model="classical", scale=2)
    mocker.patch("apps.upscales.runs.upscale_to_png", side_effect=RuntimeError("GPU fell off"))
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "GPU fell off" in job.error
    assert not default_storage.exists(f"campaigns/{draft.campaign_id}/upscales")


def test_a_draft_unkept_after_queueing_is_not_upscaled(cast, batch):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=None, model="classical", scale=2)
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.REJECT)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no longer kept" in job.error


def test_a_job_whose_requester_left_the_campaign_is_refused_by_the_worker(cast, batch, mocker):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    cast.membership("art_director").delete()
    engine = mocker.patch("apps.upscales.runs.upscale_to_png")
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    engine.assert_not_called()
    assert job.status == JobStatus.FAILED
    assert "no longer a member of this campaign" in job.error
    assert not default_storage.exists(f"campaigns/{draft.campaign_id}/upscales")


def test_a_job_whose_requester_lost_the_upscale_role_is_refused_by_the_worker(cast, batch):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    Membership.objects.filter(user=cast.art_director).update(role="reviewer")
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "cannot upscale" in job.error


def test_a_deactivated_requesters_job_does_not_run(cast, batch):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    type(cast.art_director).objects.filter(pk=cast.art_director.pk).update(is_active=False)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no longer a member" in job.error


def test_cancel_stops_a_running_job_at_its_next_progress_report(cast, batch, mocker):
    draft = kept_draft(batch)
    job, _ = upscale_request(draft=draft, by=None, model="classical", scale=2)

    def engine(data, *, callbacks, **kw):
        upscale_cancel(job=job, by=cast.art_director)
        assert callbacks.progress(1, 4) is False
        from workers.upscale.engine_types import UpscaleCancelled

        raise UpscaleCancelled()

    mocker.patch("apps.upscales.runs.upscale_to_png", side_effect=engine)
    mocker.patch("apps.core.jobs.time.monotonic", side_effect=[1000.0 + i * 5 for i in range(50)])
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.output_key == ""


def test_neural_job_records_the_weights_checksum(cast, batch, settings, tmp_path, monkeypatch):
    from tests.upscales.builders import install, requires_upscaler, small_spec

    requires_upscaler()
    spec = install(monkeypatch, small_spec("general-x4v3"), tmp_path / "models")
    settings.UPSCALE_MODELS_DIR = tmp_path / "models"
    draft = kept_draft(batch, data=encode_png(pattern_image((24, 16))))
    job, _ = upscale_request(draft=draft, by=None, model=spec.name, scale=4)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.neural and job.weights_sha256 == spec.sha256
    assert {"read", "decode", "gpu_wait", "infer", "encode", "store"} <= set(job.timings)
    # One tile: the 24 × 16 image and 10 reflected pixels on each side.
    assert job.stats["tiles"] == 1 and job.stats["processed_ratio"] == round(44 * 36 / 384, 3)
    assert job.output_key.endswith(f"-general-x4v3-x4-{spec.sha256[:16]}.png")
    with default_storage.open(job.output_key, "rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).size == (96, 64)


def _eventually(read, *, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)  # the job runs in a thread with its own connection
def test_a_job_waiting_for_the_gpu_says_so_keeps_its_lease_and_can_be_cancelled_there(
    cast, batch, settings, tmp_path, monkeypatch
):
    """The gpu worker's second job thread, for real: another job holds the device, this one
    reports "Waiting for the GPU" (renewing its lease) and stops when someone cancels it."""
    from django.db import connections

    from tests.upscales.builders import install, requires_upscaler, small_spec

    requires_upscaler()
    from workers.upscale import engine
    from workers.upscale.weights import load_model

    monkeypatch.setattr(engine, "DEVICE_WAIT_POLL_S", 0.05)
    spec = install(monkeypatch, small_spec("general-x4v3"), tmp_path / "models")
    settings.UPSCALE_MODELS_DIR = tmp_path / "models"
    device = load_model(spec, tmp_path / "models").device
    draft = kept_draft(batch, data=encode_png(pattern_image((24, 16))))
    job, _ = upscale_request(draft=draft, by=None, model=spec.name, scale=4)

    def worker_thread():
        try:
            return upscale_run(job_id=job.pk)
        finally:
            connections.close_all()

    def row() -> UpscaleJob:
        return UpscaleJob.objects.get(pk=job.pk)

    # The device turn (the worker's other job holding the GPU) is left first: if an assertion
    # fails, the job thread gets the device and finishes instead of waiting for ever.
    with ThreadPoolExecutor(1) as pool, engine.device_turn(device):
        running = pool.submit(worker_thread)
        waiting = _eventually(lambda: (r := row()).message == "Waiting for the GPU" and r)
        assert waiting.status == JobStatus.RUNNING
        _eventually(lambda: row().lease_expires_at > waiting.lease_expires_at)
        assert upscale_cancel(job=waiting, by=cast.art_director)
        claim = running.result(timeout=20)
    assert not claim.claimed
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.output_key == ""
    assert not default_storage.exists(f"campaigns/{draft.campaign_id}/upscales")


def test_the_first_job_of_a_worker_with_upscale_compile_says_it_prepares_the_model(
    batch, settings, tmp_path, monkeypatch
):
    """UPSCALE_COMPILE: while the network compiles (a stand-in for torch.compile that takes
    1.3 s on its first call) the job says why its bar waits and renews its lease every second;
    the job records the compile time and a note, and the next job compiles nothing."""
    import torch

    from apps.core import jobs
    from tests.upscales.builders import identity_compact, requires_upscaler
    from workers.upscale import engine

    requires_upscaler()
    monkeypatch.setattr(engine, "DEVICE_WAIT_POLL_S", 0.2)
    calls = []

    def slow_first_call(network, **kwargs):
        def compiled(tiles):
            calls.append(tiles.shape)
            if len(calls) == 1:
                time.sleep(1.3)
            return network(tiles)

        return compiled

    monkeypatch.setattr(torch, "compile", slow_first_call)
    spec = identity_compact(monkeypatch, tmp_path / "models")
    settings.UPSCALE_MODELS_DIR = tmp_path / "models"
    settings.UPSCALE_COMPILE = "default"
    settings.UPSCALE_TILE = 16
    said = []
    report = jobs.ProgressReporter.__call__

    def spy(self, fraction, message="", *, force=False):
        said.append((message, force))
        return report(self, fraction, message, force=force)

    monkeypatch.setattr(jobs.ProgressReporter, "__call__", spy)
    first, second = (
        upscale_request(
            draft=kept_draft(batch, data=encode_png(pattern_image(size))), by=None,
            model=spec.name, scale=4,
        )[0]
        for size in ((24, 16), (20, 20))
    )  # fmt: skip
    upscale_run(job_id=first.pk)
    preparing = [f for m, f in said if m.startswith("Preparing the model for the GPU")]
    assert len(preparing) >= 4 and preparing[0] is True
    first.refresh_from_db()
    assert first.status == JobStatus.DONE, first.error
    assert first.timings["compile"] >= 1.3
    assert any(n.startswith("network compiled (torch.compile, default)") for n in first.notes)
    said.clear()
    upscale_run(job_id=second.pk)
    second.refresh_from_db()
    assert second.status == JobStatus.DONE and "compile" not in second.timings
    assert not any(m.startswith("Preparing") for m, _ in said)
    assert len({tuple(shape) for shape in calls}) == 1


def test_the_upscaled_master_carries_the_ai_disclosure(cast, batch, settings):
    """workers/provenance.py writes the XMP into the master PNG (C2PA when configured)."""
    import io

    from PIL import Image

    from apps.drafts.models import Draft
    from apps.upscales.runs import upscale_run
    from apps.upscales.services import upscale_request
    from tests.factories import make_draft
    from workers.provenance import TRAINED

    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    kept = make_draft(batch, name="kept.png")
    Draft.objects.filter(pk=kept.pk).update(decision="keep")
    kept.refresh_from_db()
    job, _ = upscale_request(draft=kept, by=None, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    with default_storage.open(job.output_key, "rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == job.output_sha256
    xmp = Image.open(io.BytesIO(data)).getxmp()["xmpmeta"]["RDF"]["Description"]
    assert xmp["DigitalSourceType"] == TRAINED
