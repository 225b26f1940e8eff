"""The decision guide: the client's rules for keep / regenerate / reject, as a pure function.

Keep        idea, product and composition are strong; problems are technical or localized.
Regenerate  the concept is promising but misses the brief or breaks a core brand rule.
Reject      polished, but cannot support the message, channel or product requirement.

The reviewer sees the suggestion and its reasons, and decides; the guide never decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.reviews.models import Criterion, Rating

CORE = (Criterion.CONCEPT, Criterion.PRODUCT_ACCURACY, Criterion.COMPOSITION)


@dataclass(frozen=True)
class Suggestion:
    decision: str  # "keep" | "regenerate" | "reject" | "" (no suggestion yet)
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "reasons": self.reasons}


def _ratings(checklist: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in Criterion.values:
        item = checklist.get(key)
        rating = item.get("rating") if isinstance(item, Mapping) else item
        if rating in Rating.values:
            out[key] = rating
    return out


def suggest_decision(checklist: Mapping[str, Any]) -> Suggestion:
    ratings = _ratings(checklist)
    labels = dict(Criterion.choices)

    def failed(c: Criterion) -> bool:
        return ratings.get(c) == Rating.FAIL

    if failed(Criterion.REQUIREMENTS_FIT):
        return Suggestion(
            "reject",
            [
                "It cannot support the message, channel or product requirement: polish will "
                "not fix that. Keep it as a reference for the next batch if the look is useful."
            ],
        )
    regenerate = [c for c in (Criterion.CONCEPT, Criterion.BRAND_FIT) if failed(c)]
    regenerate += [c for c in (Criterion.PRODUCT_ACCURACY, Criterion.COMPOSITION) if failed(c)]
    if regenerate:
        names = ", ".join(str(labels[c]).lower() for c in regenerate)
        return Suggestion(
            "regenerate",
            [
                f"Fails on {names}: it misses the brief or breaks a brand rule; regenerate with "
                "precise direction rather than editing."
            ],
        )
    if failed(Criterion.HARD_TO_REPAIR):
        return Suggestion(
            "regenerate",
            [
                "The failing areas (hands, faces, edges, text, product surfaces) are the "
                "hardest to repair; regenerating is usually cheaper than retouching them."
            ],
        )
    if all(ratings.get(c) == Rating.PASS for c in CORE):
        reasons = ["Idea, product and composition are strong."]
        concerns = [
            str(labels[c]).lower()
            for c in (Criterion.BRAND_FIT, Criterion.REQUIREMENTS_FIT, Criterion.HARD_TO_REPAIR)
            if ratings.get(c) == Rating.CONCERN
        ]
        if concerns:
            reasons.append(f"Concerns on {', '.join(concerns)} are for rework, not a new draft.")
        return Suggestion("keep", reasons)
    unrated = [str(labels[c]).lower() for c in CORE if c not in ratings]
    if unrated:
        return Suggestion("", [f"Rate {', '.join(unrated)} to get a suggestion."])
    concerns = [str(labels[c]).lower() for c in CORE if ratings.get(c) == Rating.CONCERN]
    return Suggestion(
        "",
        [f"Concerns on {', '.join(concerns)}: the guide leaves this one to your judgement."],
    )
