"""``manage.py upscale_models``: imports that explain themselves, and custom models from the
command to the menu to a finished job that records their hash."""

from __future__ import annotations

import io
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.runs import upscale_run
from apps.upscales.selectors import model_options
from apps.upscales.services import upscale_request
from tests.factories import make_draft
from tests.images import encode_png, pattern_image
from tests.upscales.builders import install, requires_upscaler, small_spec, write_checkpoint


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()


@pytest.fixture
def models(settings, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    settings.UPSCALE_MODELS_DIR = folder
    settings.UPSCALE_PINS = []
    return folder


def _run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("upscale_models", *args, stdout=out)
    return out.getvalue()


def _pinned(monkeypatch, tmp_path):
    """general-x4v3, small, pinned to one random-weight file; and another file of the same
    architecture (another team's training run) that the pin does not accept."""
    spec = install(monkeypatch, small_spec("general-x4v3"), tmp_path / "pinned")
    other = write_checkpoint(spec, tmp_path / "theirs", seed=7)
    mine = tmp_path / "theirs" / "my-compact-finetune.pth"
    (tmp_path / "theirs" / spec.filename).rename(mine)
    return spec, mine, other.sha256


def test_a_pin_mismatch_names_the_users_file_and_says_how_to_accept_it(
    monkeypatch, tmp_path, models
):
    spec, mine, digest = _pinned(monkeypatch, tmp_path)
    with pytest.raises(CommandError) as caught:
        _run_command("import", spec.name, str(mine))
    message = str(caught.value)
    assert message.startswith(f"Refused: my-compact-finetune.pth has SHA-256 {digest}")
    assert ".part" not in message
    assert f"UPSCALE_PINS={spec.name}={digest}" in message
    assert "import-custom NAME my-compact-finetune.pth" in message
    assert not list(models.iterdir()), "nothing installed, no temporary file left"


def test_an_accepted_pin_installs_the_file_readable_by_the_worker(
    monkeypatch, tmp_path, models, settings
):
    spec, mine, digest = _pinned(monkeypatch, tmp_path)
    settings.UPSCALE_PINS = [f"{spec.name}={digest}"]
    out = _run_command("import", spec.name, str(mine))
    assert f"SHA-256 {digest}" in out
    installed = models / spec.filename
    assert stat.S_IMODE(installed.stat().st_mode) == 0o644


def test_list_says_what_can_work_when_a_pin_is_removed_and_the_job_fails_with_it(
    monkeypatch, tmp_path, models, settings, batch
):
    """The documented rule (upscale_models' docstring): present but unusable weights fail
    the job with the explanation; a neural request never becomes a classical result."""
    spec, mine, digest = _pinned(monkeypatch, tmp_path)
    settings.UPSCALE_PINS = [f"{spec.name}={digest}"]
    _run_command("import", spec.name, str(mine))
    settings.UPSCALE_PINS = []  # the pin is removed later
    listing = _run_command("list")
    line = next(line for line in listing.splitlines() if line.startswith(spec.name))
    assert f"set UPSCALE_PINS={spec.name}={digest}" in line
    assert f"upscale_models fetch {spec.name}" in line and "re-import" not in line

    draft = make_draft(batch, data=encode_png(pattern_image((16, 12))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    job, _ = upscale_request(draft=draft, by=None, model=spec.name, scale=2)
    from workers.upscale.weights import clear_cache

    clear_cache()
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not job.neural
    assert f"UPSCALE_PINS={spec.name}={digest}" in job.error


def test_a_custom_model_is_imported_listed_offered_and_its_hash_recorded_on_the_job(
    tmp_path, models, batch
):
    pytest.importorskip("spandrel")
    from tests.upscales.custom_checkpoints import write
    from workers.upscale.registry import file_sha256

    source = write("esrgan-old", tmp_path, fmt="safetensors", stem="4x-TeamSharp")
    out = _run_command(
        "import-custom", "team-sharp", str(source), "--licence", "CC-BY-NC-SA 4.0",
        "--description", "product shots",
    )  # fmt: skip
    digest = file_sha256(source)
    assert "from 4x-TeamSharp.safetensors" in out and digest in out
    listing = _run_command("list")
    assert "team-sharp" in listing and "licence: CC-BY-NC-SA 4.0" in listing
    option = next(o for o in model_options() if o.name == "team-sharp")
    assert option.installed and option.scale == 4 and "custom ESRGAN" in option.label

    draft = make_draft(batch, data=encode_png(pattern_image((16, 12))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    job, _ = upscale_request(draft=draft, by=None, model="team-sharp", scale=4)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.neural and job.used_model == "team-sharp" and job.weights_sha256 == digest


def test_a_file_that_is_not_an_upscaler_is_refused_by_the_command_naming_it(tmp_path, models):
    pytest.importorskip("spandrel")
    from tests.upscales.custom_checkpoints import write

    source = write("esrgan-1x", tmp_path, stem="1x-DeJPEG")
    with pytest.raises(CommandError, match=r"^Refused: 1x-DeJPEG\.pth is a ESRGAN Restoration"):
        _run_command("import-custom", "dejpeg", str(source))
