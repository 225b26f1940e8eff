"""The worker side of the automatic checks: one check job (decode, measure, store)."""

from __future__ import annotations

from django.core.files.storage import default_storage

from apps.checks.models import CheckJob
from apps.checks.services import check_results_store
from apps.core.jobs import Claim, job_running
from apps.drafts.models import Draft
from workers.checks import (
    DECODE_SIDE,
    CheckError,
    decode_for_checks,
    format_checks,
    measure,
    pixel_checks,
)


def draft_checks_run(*, job_id: int) -> Claim:
    """Decode the original once, measure, store every result and the draft's hash, then
    regroup the campaign's near-duplicates. A second delivery of a finished job is a no-op; a
    re-run replaces the draft's rows."""
    with job_running(
        CheckJob,
        job_id,
        failure="Could not run the checks: {exc}",
        expected={CheckError: "Could not check this file: {exc}"},
    ) as run:
        if not run.claimed:
            return run.result
        job, report, timer = run.job, run.report, run.timer
        draft = Draft.objects.select_related("campaign").get(pk=job.draft_id)
        # The channel sizes are read when the results are stored, under the campaign's lock
        # (check_results_store), so an edit of a preset meanwhile is never lost.
        job.spec = {"decode_side": DECODE_SIDE}
        CheckJob.objects.filter(pk=job.pk).update(spec=job.spec)
        with timer.phase("read"), default_storage.open(draft.file_key, "rb") as fh:
            data = fh.read()
        report(0.2, "Decoding", force=True)
        with timer.phase("decode"):
            decoded = decode_for_checks(data)
        del data
        report(0.4, "Measuring", force=True)
        with timer.phase("measure"):
            measured = measure(decoded)
            pixel = pixel_checks(measured)
            formats = format_checks(
                fmt=draft.format,
                mode=draft.mode,
                bit_depth=draft.bit_depth,
                has_alpha=draft.has_alpha,
                has_icc=draft.has_icc,
                icc_description=draft.icc_description,
            )
        if not report(0.8, "Storing results", force=True):
            return Claim(False)  # cancelled meanwhile: store nothing
        with timer.phase("store"):
            outcomes = check_results_store(
                draft=draft, job=job, pixel=pixel, formats=formats, measured=measured
            )
        counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("fail", "warn")}
        run.finish(message=f"Checked: {counts['fail']} fail, {counts['warn']} warn")
    return run.result
