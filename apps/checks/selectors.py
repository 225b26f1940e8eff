"""Reads for the automatic checks: a draft's report, grid badges, and the grid's check filters.

Nothing here checks permissions: callers hold a draft or batch they got from a scoped getter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from apps.campaigns.channels import campaign_channel_targets
from apps.campaigns.models import Campaign
from apps.checks.models import CheckJob, CheckKind, CheckResult, CheckStatus, CheckSummary
from apps.drafts.models import Draft, Rendition
from workers.checks import Placement, hamming, worst

DraftsQS = TypeVar("DraftsQS", bound=QuerySet[Any])

# The order the draft page shows the groups in: what the picture is like, then where it goes.
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("image", "Image quality", (CheckKind.SOFTNESS, CheckKind.BLOCKINESS, CheckKind.NOISE)),
    ("duplicate", "Near-duplicates", (CheckKind.DUPLICATE,)),
    ("placement", "Placements", (CheckKind.RESOLUTION, CheckKind.CROP)),
    ("colour", "Colour and format", (CheckKind.COLOUR,)),
)


def campaign_placements(campaign: Campaign) -> list[Placement]:
    """The sizes resolution and crop fit are judged against: the campaign's channel presets."""
    return [
        Placement(key=t.slug, label=t.label, width=t.width, height=t.height)
        for t in campaign_channel_targets(campaign)
    ]


@dataclass
class CheckGroup:
    key: str
    label: str
    results: list[CheckResult]
    worst: str

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.results if r.status != CheckStatus.PASS)


@dataclass
class DuplicateMember:
    draft: Draft
    distance: int | None
    sharpest: bool = False


@dataclass
class CheckReport:
    job: CheckJob | None
    summary: CheckSummary | None
    groups: list[CheckGroup] = field(default_factory=list)
    duplicates: list[DuplicateMember] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_active

    @property
    def attention(self) -> Attention:
        return attention_for(
            [(r.key, r.kind, r.status, r.label) for g in self.groups for r in g.results]
        )


def draft_check_report(draft: Draft) -> CheckReport:
    job = CheckJob.objects.filter(draft=draft).first()
    summary = CheckSummary.objects.filter(draft=draft).first()
    results = list(CheckResult.objects.filter(draft=draft).order_by("position"))
    groups = []
    for key, label, kinds in GROUPS:
        rows = [r for r in results if r.kind in kinds]
        if rows:
            groups.append(CheckGroup(key, label, rows, worst(r.status for r in rows)))
    return CheckReport(
        job=job,
        summary=summary,
        groups=groups,
        duplicates=duplicate_set(draft, summary) if summary else [],
    )


def duplicate_set(draft: Draft, summary: CheckSummary) -> list[DuplicateMember]:
    """The other drafts of the draft's near-duplicate set, anywhere in the campaign, closest
    first; the sharpest of the whole set (the draft itself included) is marked."""
    if summary.dup_group is None:
        return []
    others = list(
        Draft.objects.filter(
            campaign_id=draft.campaign_id, check_summary__dup_group=summary.dup_group
        )
        .exclude(pk=draft.pk)
        .select_related("batch", "check_summary")
        .prefetch_related(
            Prefetch(
                "renditions", queryset=Rendition.objects.filter(name="thumb"), to_attr="thumbs"
            )
        )
    )
    own = summary.phash_int
    members = [
        DuplicateMember(
            other,
            hamming(own, theirs)
            if own is not None and (theirs := other.check_summary.phash_int) is not None
            else None,
        )
        for other in others
    ]
    members.sort(key=lambda m: (m.distance if m.distance is not None else 65, m.draft.pk))
    sharpness = [(m.draft.check_summary.sharpness or 0.0, m) for m in members]
    best = max(sharpness, key=lambda pair: pair[0], default=None)
    if best is not None and best[0] > (summary.sharpness or 0.0):
        best[1].sharpest = True
    return members


# --- what needs a person: the one rule the grid badge and the draft page share -------------

# Placement checks judge the draft against each channel size. A warning there (an upscale of
# up to ×4, or a crop) is routine work done after the keep, and on a campaign with many
# channels it is on nearly every draft: it is summarised ("fits 9 of 14 channels"), never
# counted as a problem. A failure (more than any upscale can give) still needs a person.
PLACEMENT_KINDS = frozenset({CheckKind.RESOLUTION, CheckKind.CROP})


def needs_person(kind: str, status: str) -> bool:
    """Whether one check result is a problem a person must look at before deciding.
    Near-duplicates are not counted: they have their own chip ("≈ set of 3") and stacks."""
    if status == CheckStatus.PASS or kind == CheckKind.DUPLICATE:
        return False
    return status == CheckStatus.FAIL or kind not in PLACEMENT_KINDS


@dataclass(frozen=True)
class Attention:
    """What a draft's check results ask of a person: the problems (failures first) and how
    many of the campaign's channel sizes it fits without a warning."""

    problems: list[tuple[str, str]]  # (status, label)
    channels: int = 0
    misfits: list[str] = field(default_factory=list)  # channel names that do not fit cleanly

    @property
    def status(self) -> str:
        return worst(status for status, _ in self.problems)

    @property
    def text(self) -> str:
        n = len(self.problems)
        if not n:
            return "no problems"
        labels = [label for _, label in self.problems]
        shown = ", ".join(labels[:2]) + (f" +{n - 2}" if n > 2 else "")
        return f"{n} problem{'s' if n != 1 else ''}: {shown}"

    @property
    def title(self) -> str:
        return "; ".join(f"{status}: {label}" for status, label in self.problems) or (
            "No check needs a person"
        )

    @property
    def fit_text(self) -> str:
        plural = "s" if self.channels != 1 else ""
        return f"fits {self.channels - len(self.misfits)} of {self.channels} channel{plural}"


def attention_for(rows: Sequence[tuple[str, str, str, str]]) -> Attention:
    """``rows``: (key, kind, status, label) of one draft's results, in their order."""
    problems = [
        (status, label)
        for wanted in (CheckStatus.FAIL, CheckStatus.WARN)
        for _, kind, status, label in rows
        if status == wanted and needs_person(kind, status)
    ]
    channels: dict[str, bool] = {}
    names: dict[str, str] = {}
    for key, kind, status, label in rows:
        if kind in PLACEMENT_KINDS:
            slug = key.partition(".")[2]
            channels[slug] = channels.get(slug, True) and status == CheckStatus.PASS
            if kind == CheckKind.RESOLUTION:
                names[slug] = label.removesuffix(" resolution")
    misfits = [names.get(slug, slug) for slug, fits in channels.items() if not fits]
    return Attention(problems, len(channels), misfits)


@dataclass(frozen=True)
class Badge:
    status: str  # pass | warn | fail | pending | error
    text: str
    title: str
    dup_size: int = 1
    running: bool = False
    fit_text: str = ""
    fit_title: str = ""


def check_badges_for(draft_ids: Sequence[int]) -> dict[int, Badge]:
    """One badge per draft, in three queries whatever the number of drafts."""
    if not draft_ids:
        return {}
    jobs = dict(CheckJob.objects.filter(draft_id__in=draft_ids).values_list("draft_id", "status"))
    summaries = {
        s.draft_id: s
        for s in CheckSummary.objects.filter(draft_id__in=draft_ids).only("draft_id", "dup_size")
    }
    # Problems, and every placement row (a channel fits when all of its rows pass).
    rows: dict[int, list[tuple[str, str, str, str]]] = {}
    for draft_id, *row in (
        CheckResult.objects.filter(draft_id__in=draft_ids)
        .filter(~Q(status=CheckStatus.PASS) | Q(kind__in=PLACEMENT_KINDS))
        .order_by("draft_id", "position")
        .values_list("draft_id", "key", "kind", "status", "label")
    ):
        rows.setdefault(draft_id, []).append(tuple(row))  # type: ignore[arg-type]
    badges = {}
    for draft_id in draft_ids:
        summary = summaries.get(draft_id)
        status = jobs.get(draft_id)
        if status is None and summary is None:
            badges[draft_id] = Badge("pending", "not checked", "No automatic checks yet")
            continue
        if status in ("queued", "running"):
            badges[draft_id] = Badge(
                "pending", "checking…", "Automatic checks are running", running=True
            )
            continue
        if summary is None:
            badges[draft_id] = Badge("error", "checks failed", "The automatic checks failed")
            continue
        attention = attention_for(rows.get(draft_id, []))
        badges[draft_id] = Badge(
            attention.status,
            attention.text,
            attention.title,
            summary.dup_size,
            fit_text=attention.fit_text if attention.channels else "",
            fit_title=(
                "Needs more than a routine upscale, or a crop, for: " + ", ".join(attention.misfits)
                if attention.misfits
                else "Fits every channel size with a routine upscale at most"
            ),
        )
    return badges


# --- grid filters and sorts (used by apps.drafts.selectors.batch_drafts) ----------------------

_FLAGGED = (CheckStatus.WARN, CheckStatus.FAIL)

CHECK_FILTERS: dict[str, str] = {
    "": "All drafts",
    "fail": "Failing a check",
    "warn": "Warnings to look at, no failure",
    "pass": "All checks pass",
    "duplicates": "Near-duplicate sets",
    "pending": "Not checked yet",
    CheckKind.RESOLUTION: "Resolution flagged",
    CheckKind.CROP: "Crop fit flagged",
    CheckKind.SOFTNESS: "Sharpness flagged",
    CheckKind.BLOCKINESS: "Compression flagged",
    CheckKind.NOISE: "Noise flagged",
    CheckKind.COLOUR: "Colour or format flagged",
}

CHECK_SORTS: dict[str, str] = {
    "": "Upload order",
    "problems": "Most problems first",
    "softness": "Softest first",
    "upscale": "Most upscale needed first",
    "duplicates": "Near-duplicate sets together",
}


def _flagged(kind: str) -> Exists:
    return Exists(
        CheckResult.objects.filter(draft_id=OuterRef("pk"), kind=kind, status__in=_FLAGGED)
    )


def check_filter_q(value: str) -> Q | Exists | None:
    if value == CheckStatus.WARN:
        # As the badge counts (needs_person): placement and duplicate warnings alone are not.
        to_look_at = CheckResult.objects.filter(
            draft_id=OuterRef("pk"), status=CheckStatus.WARN
        ).exclude(kind__in=[*PLACEMENT_KINDS, CheckKind.DUPLICATE])
        return Q(check_summary__worst=value) & Q(Exists(to_look_at))
    if value in (CheckStatus.FAIL, CheckStatus.PASS):
        return Q(check_summary__worst=value)
    if value == "duplicates":
        return Q(check_summary__dup_group__isnull=False)
    if value == "pending":
        return Q(check_summary__isnull=True)
    if value in CheckKind.values and value != CheckKind.DUPLICATE:
        return _flagged(value)
    return None


def filter_drafts_by_check(qs: DraftsQS, value: str) -> DraftsQS:
    condition = check_filter_q(value)
    return qs if condition is None else qs.filter(condition)


def _count_results(condition: Q) -> Coalesce:
    """How many of a draft's check results match ``condition`` (0 for none, or unchecked)."""
    rows = (
        CheckResult.objects.filter(condition, draft_id=OuterRef("pk"))
        .order_by()
        .values("draft_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), Value(0))


def sort_drafts_by_check(qs: DraftsQS, value: str) -> DraftsQS:
    if value == "problems":
        # As the badge counts (needs_person): failures first, then warnings to look at;
        # placement and duplicate warnings alone do not move a draft up.
        return qs.annotate(
            problem_fails=_count_results(Q(status=CheckStatus.FAIL) & ~Q(kind=CheckKind.DUPLICATE)),
            problem_warns=_count_results(
                Q(status=CheckStatus.WARN) & ~Q(kind__in=[*PLACEMENT_KINDS, CheckKind.DUPLICATE])
            ),
        ).order_by("-problem_fails", "-problem_warns", "id")
    if value == "softness":
        return qs.order_by(F("check_summary__sharpness").asc(nulls_last=True), "id")
    if value == "upscale":
        return qs.order_by(F("check_summary__max_upscale").desc(nulls_last=True), "id")
    if value == "duplicates":
        return qs.order_by(F("check_summary__dup_group").asc(nulls_last=True), "id")
    return qs


def check_filter_counts(drafts: QuerySet[Draft]) -> dict[str, int]:
    """How many of ``drafts`` each filter would show, in one query."""
    aggregates = {}
    for index, key in enumerate(CHECK_FILTERS):
        condition = check_filter_q(key)
        name = f"n{index}"
        if condition is None:
            aggregates[name] = Count("id")
        elif isinstance(condition, Exists):
            aggregates[name] = Count("id", filter=Q(condition))
        else:
            aggregates[name] = Count("id", filter=condition)
    row = drafts.order_by().aggregate(**aggregates)
    return {key: int(row[f"n{index}"] or 0) for index, key in enumerate(CHECK_FILTERS)}


def batch_check_filter_counts(batch: Any) -> dict[str, int]:
    """``check_filter_counts`` for a whole batch, cached until one of its checks finishes.

    The full count scans every draft of the batch with several filters, a cost that grows with
    the batch (docs/performance.md); the version below is one indexed aggregate. Results only
    change when a check job finishes (a draft's checks, its duplicate set or an edit's re-run)
    or a draft is added.
    """
    version = CheckJob.objects.filter(draft__batch_id=batch.pk).aggregate(
        last=Max("finished_at"), jobs=Count("id")
    )
    last = version["last"].timestamp() if version["last"] else 0
    key = f"checks:filter-counts:{batch.pk}:{version['jobs']}:{last}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        counts = check_filter_counts(batch.drafts.all())
        cache.set(key, counts, 600)
    return counts
