"""The worker side of upscales: one upscale job (model, tiles, store, and "then export")."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from apps.core.jobs import Claim, JobRun, job_running
from apps.core.provenance import provenance_stamp
from apps.core.storage import storage_put
from apps.core.storage_keys import upscale_key
from apps.drafts.models import Decision, Draft
from apps.upscales.hooks import UpscaleFinished, upscale_finished
from apps.upscales.models import UpscaleJob
from workers.provenance import Provenance
from workers.upscale.custom import get_custom
from workers.upscale.engine_types import TileOptions, UpscaleCancelled
from workers.upscale.pipeline import (
    ModelChoice,
    UpscaleCallbacks,
    UpscaleConfig,
    choose_model,
    upscale_to_png,
)
from workers.upscale.registry import CLASSICAL, MODELS, ModelSpec, get_model

logger = logging.getLogger(__name__)


def model_spec(name: str) -> ModelSpec:
    """The registry entry, re-pinned when UPSCALE_PINS names another checkpoint for it; or a
    custom model imported under ``name`` (pinned to the hash recorded at import)."""
    if name not in MODELS:
        custom = get_custom(settings.UPSCALE_MODELS_DIR, name)
        if custom is not None:
            return custom.spec()
    spec = get_model(name)
    for pin in settings.UPSCALE_PINS:
        pinned_name, _, digest = pin.partition("=")
        if pinned_name.strip() == name and len(digest.strip()) == 64:
            return dataclasses.replace(spec, sha256=digest.strip().lower())
    return spec


def upscale_config() -> UpscaleConfig:
    """The worker's upscaling settings, the same for every job it runs."""
    return UpscaleConfig(
        models_dir=settings.UPSCALE_MODELS_DIR,
        device=settings.UPSCALE_DEVICE or None,
        precision=settings.UPSCALE_PRECISION,
        compile_mode=settings.UPSCALE_COMPILE,
        tile_options=TileOptions(tile=settings.UPSCALE_TILE or None),
        # The threads pool enforces no Celery time limit, so a pass that holds the GPU
        # longer than a prefork child would have lived is taken for stuck.
        device_wait_limit=settings.CELERY_TASK_TIME_LIMIT,
        png_level=settings.UPSCALE_PNG_LEVEL,
    )


# What a finished job keeps of the run's statistics (the rest is for logs and benchmarks).
_KEPT_STATS = ("tile", "batch", "tiles", "processed_ratio", "oom_recoveries", "alpha_tiles")


def _kept_stats(stats: dict[str, Any]) -> dict[str, Any]:
    return {key: stats[key] for key in _KEPT_STATS if key in stats}


def upscale_run(*, job_id: int) -> Claim:
    """Run one upscale job. Idempotent: an existing output under the deterministic key is
    reused; the file is written under a temporary key and published whole."""
    with job_running(
        UpscaleJob, job_id, failure="Could not upscale: {exc}", cancelled=UpscaleCancelled
    ) as run:
        if not run.claimed:
            return run.result
        job, report, timer = run.job, run.report, run.timer
        draft = Draft.objects.select_related("campaign").get(pk=job.draft_id)
        if draft.decision != Decision.KEEP:
            return run.fail("The draft is no longer kept, so it was not upscaled.")
        with timer.phase("load_model"):
            model: str | ModelSpec = job.model_name
            if job.model_name != CLASSICAL:
                model = model_spec(job.model_name)
            config = upscale_config()
            choice = choose_model(model, config)
        key = upscale_key(
            campaign_id=draft.campaign_id,
            sha256=draft.sha256,
            model_name=choice.name,
            scale=job.scale,
            neural=choice.neural,
            weights_sha256=choice.weights_sha256,
        )
        if default_storage.exists(key):
            _finish(run, choice, key, reused=True)
            return run.result
        with timer.phase("read"), default_storage.open(draft.file_key, "rb") as fh:
            data = fh.read()
        report(0.02, "Decoding", force=True)
        fraction, waiting = 0.02, False

        def progress(done: int, total: int) -> bool:
            nonlocal fraction, waiting
            fraction, waiting = 0.05 + 0.85 * done / max(1, total), False
            return report(fraction, f"{done} of {total} tiles")

        def device_wait(seconds: float) -> bool:
            # The worker's other job has the GPU for its network pass. Reporting while waiting
            # keeps this job's lease alive and notices a cancel; the first report of a wait is
            # not throttled, so the page says at once why the bar stopped.
            nonlocal waiting
            first, waiting = not waiting, True
            return report(fraction, "Waiting for the GPU", force=first)

        def preparing(seconds: float) -> bool:
            # The worker's first job compiles the network (UPSCALE_COMPILE); the reports keep
            # the lease alive for as long as that takes.
            return report(
                fraction,
                "Preparing the model for the GPU (first job of this worker)",
                force=seconds < 2,
            )

        encoded = upscale_to_png(
            data,
            model=choice,
            scale=job.scale,
            config=config,
            callbacks=UpscaleCallbacks(
                progress=progress, device_wait=device_wait, preparing=preparing
            ),
            keep_pixels=bool(job.spec.get("then_export")),
        )
        encoded.result.timings.pop("load", None)  # already timed here as load_model
        job.timings.update(encoded.result.timings)
        job.stats = _kept_stats(encoded.result.stats)
        if not report(0.95, "Storing", force=True):
            return Claim(False)  # cancelled while the last strips were encoded
        with timer.phase("provenance"):
            png = provenance_stamp(encoded.png, "PNG", _master_provenance(draft, choice, job))
        with timer.phase("store"):
            storage_put(key, png)
        job.notes = encoded.result.notes
        _finish(
            run,
            choice,
            key,
            size=(encoded.result.width, encoded.result.height),
            sha256=hashlib.sha256(png).hexdigest(),
        )
        then_export = bool(job.spec.get("then_export"))
        _announce(job, then_export, encoded.result.to_pil() if then_export else None)
    return run.result


def _announce(job: UpscaleJob, then_export: bool, image: Any) -> None:
    """Tell the listeners (exports' "upscale and export") while the picture is in memory."""
    try:
        upscale_finished(
            UpscaleFinished(job=job, by=job.requested_by, then_export=then_export, image=image)
        )
    except Exception:
        # The upscale itself succeeded; the export job row carries its own failure.
        logger.exception("upscale job %s: a listener of the finished upscale failed", job.pk)


def _storage_sha256(key: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(key, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _master_provenance(draft: Draft, choice: ModelChoice, job: UpscaleJob) -> Provenance:
    """The upscaled master's provenance: the record's generation, the edit, this upscale."""
    return Provenance(
        title=draft.original_name,
        generator=draft.generator,
        model=draft.model_name,
        edited=draft.revisions.count() > 1,
        upscale_model=choice.name,
        upscale_weights_sha256=choice.weights_sha256 or "",
        upscale_scale=float(job.scale),
    )


def _finish(
    run: JobRun[UpscaleJob],
    choice: ModelChoice,
    key: str,
    *,
    size: tuple[int, int] | None = None,
    reused: bool = False,
    sha256: str = "",
) -> None:
    job = run.job
    if size is None:
        from workers.upscale.imaging import png_size

        with default_storage.open(key, "rb") as fh:
            size = png_size(fh.read(32))
    notes = list(job.notes or []) + list(choice.notes)
    if reused:
        notes.append("The same upscale already existed; its file was reused.")
    UpscaleJob.objects.filter(pk=job.pk).update(
        used_model=choice.name,
        model_label=choice.label,
        neural=choice.neural,
        weights_sha256=choice.weights_sha256,
        output_width=size[0],
        output_height=size[1],
        output_bytes=default_storage.size(key),
        output_sha256=sha256 or _storage_sha256(key),
        notes=list(dict.fromkeys(notes)),
        stats=job.stats or {},
    )
    message = f"Done: {size[0]}×{size[1]} by {choice.label}"
    run.finish(output_key=key, message=message[:300])
