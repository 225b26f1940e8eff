"""Other apps react to decisions (rework sends notifications) without apps.reviews knowing
them. Listeners run inside the deciding transaction; whatever they send leaves after commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from apps.drafts.models import Draft
    from apps.reviews.models import Review


class DecisionEventKind(StrEnum):
    COUNTED = "counted"  # the decision counts now (no sign-off needed)
    AWAITING_SIGN_OFF = "awaiting_sign_off"  # a reviewer's decision waits for an art director
    SIGNED_OFF = "signed_off"  # an art director made a waiting decision count


@dataclass(frozen=True)
class DecisionEvent:
    kind: DecisionEventKind
    draft: Draft
    review: Review
    actor: User


DecisionListener = Callable[[DecisionEvent], None]
_LISTENERS: list[DecisionListener] = []


def register_decision_listener(func: DecisionListener) -> None:
    if func not in _LISTENERS:
        _LISTENERS.append(func)


def decision_recorded(event: DecisionEvent) -> None:
    for func in _LISTENERS:
        func(event)
