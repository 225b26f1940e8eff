"""Deciding a stack (apps.drafts.selectors.grid_stacks) in one go: the best draft is kept, the
rest get one decision with one note. Each draft goes through ``review_submit``, so sign-off
rules, history, notifications and the draft's own row lock apply exactly as for one decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.db import transaction

from apps.core.errors import Refusal
from apps.drafts.models import Decision, Draft
from apps.reviews.services import review_submit

REST_DECISIONS = (Decision.REJECT, Decision.REGENERATE, Decision.UNDECIDED)


def stack_decide(
    *,
    drafts: Sequence[Draft],
    best_id: int,
    rest: str,
    note: str,
    reviewer: User,
    versions: Mapping[int, str] | None = None,
) -> str:
    """Keep ``best_id``; give every other draft of the stack ``rest`` (undecided: leave them).
    All or nothing: a refused decision (a missing note, or a draft whose decision changed since
    the page showed it: ``versions``, its tokens by draft id) leaves every draft as it was.
    Returns what happened, for the person."""
    versions = versions or {}
    best = next((d for d in drafts if d.pk == best_id), None)
    if best is None:
        raise Refusal("Pick the best draft of the stack.")
    if rest not in REST_DECISIONS:
        raise Refusal("Choose reject, regenerate or leave the rest undecided.")
    others = [d for d in drafts if d.pk != best_id]
    with transaction.atomic():
        review_submit(
            draft=best,
            reviewer=reviewer,
            decision=Decision.KEEP,
            expected_version=versions.get(best.pk),
        )
        if rest:
            for draft in others:
                review_submit(
                    draft=draft,
                    reviewer=reviewer,
                    decision=rest,
                    note=note,
                    expected_version=versions.get(draft.pk),
                )
    if not rest or not others:
        return f"Kept {best.original_name}."
    return f"Kept {best.original_name}; {Decision(rest).label.lower()} for {len(others)} others."
