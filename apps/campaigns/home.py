"""What waits for me: the "my campaigns" home asks each app, in one call per app for all of
the person's campaigns, what waits for them there.

Apps register in ``AppConfig.ready()`` (reviews: drafts to decide and sign-offs; rework: open
rework; exports: kept drafts to export and packs), as they plug panels into the draft page.
A contributor gets the person and their memberships and returns items per campaign id; it
checks roles itself and must stay a constant number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from apps.campaigns.models import Membership


@dataclass(frozen=True)
class Waiting:
    count: int
    label: str  # what the count counts: "drafts to decide"
    url: str
    order: int = 100


WaitingFor = Callable[[User, Sequence[Membership]], dict[int, list[Waiting]]]
_CONTRIBUTORS: list[WaitingFor] = []


def register_waiting(func: WaitingFor) -> None:
    if func not in _CONTRIBUTORS:
        _CONTRIBUTORS.append(func)


def waiting_for(user: User, memberships: Sequence[Membership]) -> dict[int, list[Waiting]]:
    """Items with a count above zero, per campaign id, in their ``order``."""
    found: dict[int, list[Waiting]] = defaultdict(list)
    if not memberships:
        return found
    for contribute in _CONTRIBUTORS:
        for campaign_id, items in contribute(user, memberships).items():
            found[campaign_id].extend(i for i in items if i.count > 0)
    for items in found.values():
        items.sort(key=lambda i: i.order)
    return found
