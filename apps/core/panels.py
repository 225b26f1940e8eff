"""Extension points for pages that several apps contribute to.

The draft page and the batch grid belong to apps.drafts, but checks, rework, upscales and
exports each add a section. Each app registers its contributions in ``AppConfig.ready()``;
the owning view renders them in order. Contributions get the request, the object and the
viewer's membership, and check their own permissions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership

# Where on the draft page a panel goes.
DRAFT_SLOTS = ("viewer_tools", "viewer_overlay", "panel_top", "panel_middle", "panel_bottom")
# Where on the batch grid page.
BATCH_SLOTS = ("toolbar", "below_filters")

DraftPanel = Callable[[HttpRequest, Any, Membership], SafeString | str]
BatchPanel = Callable[[HttpRequest, Any, Membership, Sequence[Any]], SafeString | str]
TileBadges = Callable[[Sequence[Any]], dict[int, SafeString | str]]


@dataclass(frozen=True)
class _Entry:
    order: int
    func: Callable[..., Any]


_DRAFT: dict[str, list[_Entry]] = {slot: [] for slot in DRAFT_SLOTS}
_BATCH: dict[str, list[_Entry]] = {slot: [] for slot in BATCH_SLOTS}
_BADGES: list[_Entry] = []


def register_draft_panel(slot: str, func: DraftPanel, *, order: int = 100) -> None:
    if slot not in _DRAFT:
        raise ValueError(f"unknown draft slot {slot!r}; use one of {DRAFT_SLOTS}")
    if not any(e.func is func for e in _DRAFT[slot]):
        _DRAFT[slot].append(_Entry(order, func))
        _DRAFT[slot].sort(key=lambda e: e.order)


def register_batch_panel(slot: str, func: BatchPanel, *, order: int = 100) -> None:
    if slot not in _BATCH:
        raise ValueError(f"unknown batch slot {slot!r}; use one of {BATCH_SLOTS}")
    if not any(e.func is func for e in _BATCH[slot]):
        _BATCH[slot].append(_Entry(order, func))
        _BATCH[slot].sort(key=lambda e: e.order)


def register_tile_badges(func: TileBadges, *, order: int = 100) -> None:
    """``func(drafts)`` returns extra HTML per draft id for the grid tiles, in a constant
    number of queries for the whole page."""
    if not any(e.func is func for e in _BADGES):
        _BADGES.append(_Entry(order, func))
        _BADGES.sort(key=lambda e: e.order)


def render_draft_panels(request: HttpRequest, draft: Any, membership: Membership) -> dict[str, str]:
    return {
        slot: SafeString("".join(str(e.func(request, draft, membership)) for e in entries))
        for slot, entries in _DRAFT.items()
    }


def render_batch_panels(
    request: HttpRequest, batch: Any, membership: Membership, drafts: Sequence[Any]
) -> dict[str, str]:
    return {
        slot: SafeString("".join(str(e.func(request, batch, membership, drafts)) for e in entries))
        for slot, entries in _BATCH.items()
    }


def render_tile_badges(drafts: Sequence[Any]) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    for entry in _BADGES:
        for draft_id, html in entry.func(drafts).items():
            out.setdefault(draft_id, []).append(str(html))
    return {draft_id: SafeString("".join(parts)) for draft_id, parts in out.items()}
