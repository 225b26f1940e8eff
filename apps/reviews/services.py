from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.campaigns.services import audit_record
from apps.drafts.models import Decision, Draft
from apps.reviews.guide import suggest_decision
from apps.reviews.models import Criterion, Rating, Review

NOTE_MAX = 4000


def clean_checklist(raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for key, item in raw.items():
        if key not in Criterion.values:
            raise ValidationError(f"Unknown checklist criterion “{key}”.")
        if not isinstance(item, Mapping):
            raise ValidationError(f"Checklist item “{key}” must have a rating and a note.")
        rating = str(item.get("rating") or "")
        note = str(item.get("note") or "").strip()
        if rating and rating not in Rating.values:
            raise ValidationError(f"Rating for “{key}” must be pass, concern or fail.")
        if len(note) > NOTE_MAX:
            raise ValidationError(f"The note for “{key}” is too long.")
        if rating or note:
            cleaned[key] = {"rating": rating, "note": note}
    return cleaned


@transaction.atomic
def review_submit(
    *,
    draft: Draft,
    reviewer: User,
    decision: str,
    checklist: Mapping[str, Any] | None = None,
    note: str = "",
) -> Review:
    """Record a decision. The draft's current decision becomes this one; history is kept."""
    if decision not in (Decision.KEEP, Decision.REGENERATE, Decision.REJECT):
        raise ValidationError("Choose keep, regenerate or reject.")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationError("The note is too long.")
    if decision in (Decision.REGENERATE, Decision.REJECT) and not note:
        raise ValidationError(
            f"A note is required to {decision}: say what should change or why it cannot work."
        )
    cleaned = clean_checklist(checklist or {})
    suggestion = suggest_decision(cleaned)
    review = Review.objects.create(
        draft=draft,
        reviewer=reviewer,
        decision=decision,
        checklist=cleaned,
        note=note,
        suggested=suggestion.decision,
    )
    now = timezone.now()
    Draft.objects.filter(pk=draft.pk).update(decision=decision, decided_by=reviewer, decided_at=now)
    draft.decision, draft.decided_by, draft.decided_at = decision, reviewer, now
    label = Decision(decision).label
    audit_record(
        campaign=draft.campaign,
        actor=reviewer,
        verb=f"review.{decision}",
        summary=f"{label}: “{draft.original_name}”" + (f" — {note[:200]}" if note else ""),
        target=draft,
        data={"review_id": review.pk, "suggested": suggestion.decision},
    )
    return review
