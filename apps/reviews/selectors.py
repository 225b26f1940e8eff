from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.selectors import AnyUser
from apps.core.people import person_name
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.selectors import decisions_version
from apps.reviews.models import (
    Criterion,
    Rating,
    Region,
    Review,
    ReviewPreferences,
    ReviewSettings,
)


def draft_reviews(draft: Draft) -> QuerySet[Review]:
    return (
        draft.reviews.select_related("reviewer", "sign_off__signed_by")
        .annotate(region_count=Count("regions"))
        .order_by("-created_at", "-id")
    )


def decision_version(draft: Draft) -> str:
    """A token for the decision state a page shows. The page posts it back with a decision or
    sign-off; the services refuse when the draft moved on meanwhile, so a person acting on an
    out-of-date view never silently overwrites what someone else (or another tab) decided."""
    state = (
        draft.decision,
        draft.decided_by_id,
        draft.decided_at,
        draft.proposed_decision,
        draft.proposed_by_id,
        draft.proposed_at,
        draft.signed_off_by_id,
        draft.signed_off_at,
        draft.revision,
    )
    # str(), not repr(): a choice enum fresh from a service and the same value read back from
    # the database must give one token.
    text = "|".join("" if value is None else str(value) for value in state)
    return hashlib.blake2s(text.encode(), digest_size=8).hexdigest()


def _name(user: User | None) -> str:
    return person_name(user, "someone since removed")


def decision_changes(draft: Draft) -> str:
    """What the draft's decision is now, said for someone whose view was out of date."""
    parts = []
    if draft.decision:
        counted = f"{_name(draft.decided_by)} decided {draft.get_decision_display()}"
        if draft.decided_at:
            counted += f" at {timezone.localtime(draft.decided_at):%H:%M, %d %b}"
        if draft.signed_off_by_id:
            counted += f", signed off by {_name(draft.signed_off_by)}"
        parts.append(counted)
    else:
        parts.append("it has no decision that counts")
    if draft.proposed_decision:
        proposed = (
            f"{_name(draft.proposed_by)} proposed {draft.get_proposed_decision_display()}, "
            "awaiting sign-off"
        )
        if draft.proposed_at:
            proposed += f" (at {timezone.localtime(draft.proposed_at):%H:%M})"
        parts.append(proposed)
    said = "; ".join(parts) + "."
    if draft.revision > 1:
        # An edit brings a new file back to review: the page may have shown the earlier one.
        said += f" The file is revision {draft.revision}."
    return said


def latest_review_by(draft: Draft, user: AnyUser) -> Review | None:
    if not isinstance(user, User):
        return None
    return draft.reviews.filter(reviewer=user).order_by("-created_at", "-id").first()


def review_settings_for(campaign: Campaign) -> ReviewSettings:
    """The campaign's settings, or the defaults (unsaved) when none were set."""
    settings = ReviewSettings.objects.filter(campaign=campaign).first()
    return settings or ReviewSettings(campaign=campaign)


def draft_regions(draft: Draft) -> QuerySet[Region]:
    """Every region marked on the draft, on any of its revisions, oldest first."""
    return (
        Region.objects.filter(draft=draft)
        .select_related("review__reviewer")
        .order_by("revision", "created_at", "id")
    )


def region_as_json(region: Region) -> dict[str, Any]:
    review = region.review
    return {
        "id": region.pk,
        "category": region.category,
        "category_label": str(region.get_category_display()),
        "note": region.note,
        "coordinates": "fraction",
        "x": round(region.x, 6),
        "y": round(region.y, 6),
        "w": round(region.w, 6),
        "h": round(region.h, 6),
        "pixels": region.pixel_box(),
        "image_width": region.image_width,
        "image_height": region.image_height,
        "revision": region.revision,
        "review_id": review.pk,
        "decision": review.decision,
        "author": review.reviewer.get_username() if review.reviewer else "",
        "created_at": region.created_at.isoformat(),
    }


def draft_regions_export(draft: Draft) -> dict[str, Any]:
    """The draft's marked regions as JSON for the asset record: fractions of the image plus
    the same boxes in source pixels of the revision each was drawn on."""
    return {
        "draft_id": draft.pk,
        "current_revision": draft.revision,
        "coordinates": (
            "x, y, w, h are fractions (0..1) of the image after EXIF orientation, from the "
            "top-left; pixels are the same box in the revision's source pixels"
        ),
        "regions": [region_as_json(r) for r in draft_regions(draft)],
    }


@dataclass
class ConsensusRow:
    key: str
    label: str
    cells: list[dict[str, str]]  # one per reviewer: {"rating", "note"}
    agreement: str  # "agree" | "disagree" | "" (fewer than two ratings)


@dataclass
class Consensus:
    reviews: list[Review] = field(default_factory=list)
    decision_agreement: str = ""
    rows: list[ConsensusRow] = field(default_factory=list)

    @property
    def disagreements(self) -> list[str]:
        return [row.label for row in self.rows if row.agreement == "disagree"]

    @property
    def decision_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for review in self.reviews:
            label = str(review.get_decision_display())
            counts[label] = counts.get(label, 0) + 1
        return sorted(counts.items(), key=lambda item: -item[1])


def _agreement(values: list[str]) -> str:
    present = [v for v in values if v]
    if len(present) < 2:
        return ""
    return "agree" if len(set(present)) == 1 else "disagree"


def draft_consensus(draft: Draft) -> Consensus:
    """Each reviewer's latest review of the current revision, criterion by criterion."""
    latest: dict[int | None, Review] = {}
    reviews = draft.reviews.filter(revision=draft.revision).select_related("reviewer")
    for review in reviews.order_by("-created_at", "-id"):
        latest.setdefault(review.reviewer_id, review)
    chosen = sorted(latest.values(), key=lambda r: r.reviewer.get_username() if r.reviewer else "")
    rows = []
    for key, label in Criterion.choices:
        cells = []
        for review in chosen:
            item = review.checklist.get(key) or {}
            rating = item.get("rating", "")
            cells.append(
                {
                    "rating": rating if rating in Rating.values else "",
                    "note": str(item.get("note", "")),
                }
            )
        rows.append(ConsensusRow(key, str(label), cells, _agreement([c["rating"] for c in cells])))
    return Consensus(
        reviews=chosen,
        decision_agreement=_agreement([r.decision for r in chosen]),
        rows=rows,
    )


def stays_after_decision(user: AnyUser) -> bool:
    """Whether the person prefers to stay on a draft after deciding (the default: move on)."""
    if not user.is_authenticated:
        return False
    return bool(
        ReviewPreferences.objects.filter(user_id=user.pk)
        .values_list("stay_after_decision", flat=True)
        .first()
    )


def _undecided(batch_id: int) -> QuerySet[Draft]:
    # Undecided and not waiting for sign-off: a person still has to look at it.
    return Draft.objects.filter(
        batch_id=batch_id, decision=Decision.UNDECIDED, proposed_decision=Decision.UNDECIDED
    )


def next_undecided_id(draft: Draft) -> int | None:
    """The draft to open after deciding this one: the next undecided one in the batch, after
    this one first, then from the start (a skipped draft comes round again)."""
    qs = _undecided(draft.batch_id).exclude(pk=draft.pk)
    after = qs.filter(id__gt=draft.pk).order_by("id").values_list("id", flat=True).first()
    if after is not None:
        return after
    return qs.order_by("id").values_list("id", flat=True).first()


@dataclass(frozen=True)
class BatchSummary:
    counts: dict[str, int]
    awaiting_sign_off: list[Draft]
    rework_assigned: list[Draft]
    undecided: list[Draft]
    next_batch: Batch | None


def batch_summary(batch: Batch) -> BatchSummary:
    """The end of a batch: decisions counted, and what still waits on whom."""
    drafts = Draft.objects.filter(batch_id=batch.pk)
    counts = {value: 0 for value in Decision.values}
    for row in drafts.values("decision").annotate(n=Count("id")):
        counts[row["decision"]] = row["n"]
    awaiting = list(
        drafts.exclude(proposed_decision=Decision.UNDECIDED)
        .select_related("proposed_by")
        .order_by("id")
    )
    # Through the reverse relation by its stored value: apps.reviews does not import
    # apps.rework (rework listens to reviews, not the other way round).
    rework = list(
        drafts.filter(assignments__status="open").select_related().distinct().order_by("id")
    )
    undecided = list(_undecided(batch.pk).order_by("id"))
    next_batch = (
        Batch.objects.filter(campaign_id=batch.campaign_id, id__gt=batch.pk).order_by("id").first()
    )
    return BatchSummary(
        counts=counts,
        awaiting_sign_off=awaiting,
        rework_assigned=rework,
        undecided=undecided,
        next_batch=next_batch,
    )


def drafts_awaiting_sign_off(campaign_id: int) -> QuerySet[Draft]:
    """The art director's sign-off queue: decisions that wait for them, oldest ask first."""
    return (
        Draft.objects.filter(campaign_id=campaign_id)
        .exclude(proposed_decision=Decision.UNDECIDED)
        .select_related("proposed_by", "batch")
        .order_by("proposed_at", "id")
    )


def sign_off_queue_version(campaign_id: int) -> str:
    """A token for the sign-off queue as a page shows it, in one query: the open queue sends it
    back (static/js/poll.js live mode) and is answered 304 until a decision joins or leaves the
    queue (signed off or decided again by someone) or a waiting one changes."""
    return decisions_version(drafts_awaiting_sign_off(campaign_id))
