"""Writes for the automatic checks: the job on intake, re-runs, a run's results and the campaign's
duplicate sets. The worker's run is in ``runs.py``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.services import audit_record
from apps.checks.models import CheckJob, CheckKind, CheckResult, CheckStatus, CheckSummary
from apps.checks.selectors import campaign_placements
from apps.core.jobs import job_get_or_create, job_requeue
from apps.core.models import JobStatus
from apps.drafts.models import Draft
from workers.checks import (
    Measurements,
    Outcome,
    Placement,
    check_duplicates,
    duplicate_groups,
    placement_checks,
    worst,
)

logger = logging.getLogger(__name__)

# Rows of one draft are shown grouped by kind; the duplicate row is rewritten on its own when a
# campaign's sets change, so it keeps a fixed place after the per-image checks.
_DUPLICATE_POSITION = 500


def check_job_create(*, draft: Draft) -> CheckJob:
    """Queue the checks of a new draft. Called inside the intake transaction (a draft-added
    hook), so the message goes out only once the draft and the job row are committed."""
    job, _ = job_get_or_create(CheckJob, draft=draft)
    return job


def checks_on_draft_added(draft: Draft) -> None:
    """The draft-added hook (apps.drafts.hooks)."""
    check_job_create(draft=draft)


def checks_on_draft_revised(draft: Draft) -> None:
    """The draft-revised hook: an edit replaced the file, so its checks are out of date."""
    check_rerun(draft=draft, by=None)


_RERUNNABLE = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


def check_rerun(*, draft: Draft, by: User | None) -> bool:
    """Run the checks again (thresholds, channels or the file changed). False when a run is
    already queued or running; that run will pick up the current campaign settings."""
    with transaction.atomic():
        job, created = job_get_or_create(CheckJob, draft=draft)
        if not created and not job_requeue(job, statuses=_RERUNNABLE):
            return False
        audit_record(
            campaign=draft.campaign,
            actor=by,
            verb="checks.rerun",
            summary=f"Re-ran the automatic checks of “{draft.original_name}”",
            target=draft,
        )
    return True


def check_results_store(
    *,
    draft: Draft,
    job: CheckJob,
    pixel: Sequence[Outcome],
    formats: Sequence[Outcome],
    measured: Measurements,
) -> list[Outcome]:
    """Replace the draft's results and hash, and regroup its campaign, in one transaction.
    Resolution and crop fit are judged here, on the draft's real pixel size against the
    campaign's channel sizes read under the campaign's lock, so a preset edited while the
    checks ran is judged on its new size (placement_results_refresh holds the same lock).
    Returns every stored outcome."""
    with transaction.atomic():
        # Serialises writers per campaign (PostgreSQL): two drafts finishing together must not
        # each regroup from a snapshot that lacks the other's hash. NO KEY: a plain FOR UPDATE
        # would also block every insert that references the campaign (audit events, drafts)
        # and deadlock with a web request that holds a draft row and writes an audit event.
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=draft.campaign_id)
        placements = campaign_placements(campaign)
        outcomes = [
            *pixel,
            *placement_checks(draft.width, draft.height, placements),
            *formats,
        ]
        CheckJob.objects.filter(pk=job.pk).update(
            spec={**(job.spec or {}), **_judged_on(campaign, placements)}
        )
        CheckResult.objects.filter(draft=draft).delete()
        CheckResult.objects.bulk_create(
            _row(draft.pk, outcome, position) for position, outcome in enumerate(outcomes)
        )
        resolutions = [o.value for o in outcomes if o.kind == "resolution" and o.value]
        CheckSummary.objects.update_or_create(
            draft=draft,
            defaults={
                "sharpness": measured.sharpness,
                "blockiness": measured.blockiness,
                "noise": measured.noise,
                "max_upscale": max(resolutions) if resolutions else None,
                "phash": f"{measured.phash:016x}" if measured.phash is not None else "",
                "checked_at": timezone.now(),
                # Filled in by the regrouping below, which also writes the duplicate row.
                "worst": CheckStatus.PASS,
                "dup_group": None,
                "dup_size": 1,
                "dup_nearest": None,
            },
        )
        duplicate_sets_refresh(campaign_id=draft.campaign_id, force={draft.pk})
    return outcomes


def _judged_on(campaign: Campaign, placements: Sequence[Placement]) -> dict[str, Any]:
    """What a run's spec records of the channel sizes its results were judged on."""
    return {
        "channels": [str(c) for c in campaign.target_channels or []],
        "placements": [[p.key, p.width, p.height] for p in placements],
    }


def duplicate_sets_refresh(
    *, campaign_id: int, force: frozenset[int] | set[int] = frozenset()
) -> int:
    """Recompute the campaign's near-duplicate sets; rewrite the duplicate row and roll-up of
    every draft whose set changed (and of ``force``). Returns how many drafts were rewritten."""
    summaries = {s.draft_id: s for s in CheckSummary.objects.filter(draft__campaign_id=campaign_id)}
    hashed = [(draft_id, s.phash_int) for draft_id, s in summaries.items() if s.phash]
    groups = duplicate_groups([(i, h) for i, h in hashed if h is not None])
    changed = []
    for draft_id, summary in summaries.items():
        info = groups.get(draft_id)
        fields = (info.group, info.size, info.nearest) if info else (None, 1, None)
        if draft_id in force or fields != (
            summary.dup_group,
            summary.dup_size,
            summary.dup_nearest,
        ):
            summary.dup_group, summary.dup_size, summary.dup_nearest = fields
            changed.append(summary)
    if not changed:
        return 0
    ids = [s.draft_id for s in changed]
    rows = []
    for summary in changed:
        outcome = check_duplicates(groups.get(summary.draft_id), hashed=bool(summary.phash))
        rows.append(_row(summary.draft_id, outcome, _DUPLICATE_POSITION))
    CheckResult.objects.filter(draft_id__in=ids, kind="duplicate").delete()
    CheckResult.objects.bulk_create(rows)
    _roll_up(changed)
    CheckSummary.objects.bulk_update(
        changed,
        ["dup_group", "dup_size", "dup_nearest", *_ROLL_UP_FIELDS],
    )
    return len(changed)


_ROLL_UP_FIELDS = ("worst", "fail_count", "warn_count", "problems")


def _roll_up(summaries: Sequence[CheckSummary]) -> None:
    """Set each summary's worst status, counts and problem list from its draft's stored rows
    (the caller saves them)."""
    by_draft: dict[int, list[tuple[str, str]]] = {}
    for draft_id, status, label in (
        CheckResult.objects.filter(draft_id__in=[s.draft_id for s in summaries])
        .order_by("draft_id", "position")
        .values_list("draft_id", "status", "label")
    ):
        by_draft.setdefault(draft_id, []).append((status, label))
    for summary in summaries:
        results = by_draft.get(summary.draft_id, [])
        summary.worst = worst(status for status, _ in results)
        summary.fail_count = sum(1 for status, _ in results if status == CheckStatus.FAIL)
        summary.warn_count = sum(1 for status, _ in results if status == CheckStatus.WARN)
        summary.problems = [
            [status, label]
            for wanted in (CheckStatus.FAIL, CheckStatus.WARN)
            for status, label in results
            if status == wanted
        ]


_PLACEMENT_KINDS = (CheckKind.RESOLUTION, CheckKind.CROP)


def placement_results_refresh(*, campaign: Campaign) -> int:
    """Judge every checked draft of the campaign again against its channel presets as they are
    now (a preset's size or the campaign's target channels changed). Resolution and crop fit
    are arithmetic on the draft's pixel size, so nothing is decoded: the placement rows are
    replaced in place, the roll-up follows. Returns how many drafts were judged."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
        placements = campaign_placements(campaign)
        summaries = list(
            CheckSummary.objects.filter(draft__campaign=campaign).select_related("draft")
        )
        rows_by_draft: dict[int, list[CheckResult]] = {}
        for row in CheckResult.objects.filter(draft__campaign=campaign).order_by(
            "draft_id", "position"
        ):
            rows_by_draft.setdefault(row.draft_id, []).append(row)
        new_rows: list[CheckResult] = []
        moved: list[CheckResult] = []
        for summary in summaries:
            draft = summary.draft
            outcomes = placement_checks(draft.width, draft.height, placements)
            kept = [r for r in rows_by_draft.get(draft.pk, []) if r.kind not in _PLACEMENT_KINDS]
            # The placement rows go where the run put them: after the pixel checks, before
            # colour and format (the duplicate row keeps its fixed place).
            before = [r for r in kept if r.kind in _PIXEL_KINDS]
            after = [r for r in kept if r.kind not in _PIXEL_KINDS and r.kind != "duplicate"]
            position = len(before)
            for outcome in outcomes:
                new_rows.append(_row(draft.pk, outcome, position))
                position += 1
            for row in after:
                if row.position != position:
                    row.position = position
                    moved.append(row)
                position += 1
            resolutions = [o.value for o in outcomes if o.kind == "resolution" and o.value]
            summary.max_upscale = max(resolutions) if resolutions else None
        CheckResult.objects.filter(draft__campaign=campaign, kind__in=_PLACEMENT_KINDS).delete()
        CheckResult.objects.bulk_update(moved, ["position"])
        CheckResult.objects.bulk_create(new_rows)
        _roll_up(summaries)
        CheckSummary.objects.bulk_update(summaries, ["max_upscale", *_ROLL_UP_FIELDS])
        # Each run's spec records what its results were judged on.
        judged = _judged_on(campaign, placements)
        jobs = list(CheckJob.objects.filter(draft__campaign=campaign, status=JobStatus.DONE))
        for job in jobs:
            job.spec = {**(job.spec or {}), **judged}
        CheckJob.objects.bulk_update(jobs, ["spec"])
    return len(summaries)


_PIXEL_KINDS = (CheckKind.SOFTNESS, CheckKind.BLOCKINESS, CheckKind.NOISE)


def placements_on_channels_changed(campaign_ids: list[int] | None) -> None:
    """The channels-changed hook (apps.campaigns.channels): judge the placements again in the
    background, once the change is committed. ``None``: every live campaign."""
    from apps.checks.tasks import placements_refresh_task

    def send() -> None:
        placements_refresh_task.delay(campaign_ids)

    transaction.on_commit(send)


def _row(draft_id: int, outcome: Outcome, position: int) -> CheckResult:
    return CheckResult(
        draft_id=draft_id,
        key=outcome.key,
        kind=outcome.kind,
        label=outcome.label[:80],
        status=outcome.status,
        value=outcome.value,
        threshold=outcome.threshold,
        value_label=outcome.value_label[:80],
        threshold_label=outcome.threshold_label[:80],
        explanation=outcome.explanation[:300],
        position=position,
    )
