"""Other apps react to a new draft (automatic checks, for one) without apps.drafts knowing them.

Hooks run inside the intake transaction, so whatever job rows they create commit with the
draft, and their dispatch (``job_dispatch``) happens after that commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DraftHook = Callable[[Any], None]
_ON_DRAFT_ADDED: list[DraftHook] = []


def register_draft_added(func: DraftHook) -> None:
    if func not in _ON_DRAFT_ADDED:
        _ON_DRAFT_ADDED.append(func)


def draft_added(draft: Any) -> None:
    for func in _ON_DRAFT_ADDED:
        func(draft)


_ON_DRAFT_REVISED: list[DraftHook] = []


def register_draft_revised(func: DraftHook) -> None:
    """Runs inside the transaction that gives a draft a new current file (an edit)."""
    if func not in _ON_DRAFT_REVISED:
        _ON_DRAFT_REVISED.append(func)


def draft_revised(draft: Any) -> None:
    for func in _ON_DRAFT_REVISED:
        func(draft)


_ON_PREVIEWS_READY: list[DraftHook] = []


def register_previews_ready(func: DraftHook) -> None:
    """Runs in the preview job once the draft's renditions are stored, for work that reads
    them (exports proposes the focal rectangle here, so pages never compute it in a GET).
    A listener's failure is logged; it never fails the previews."""
    if func not in _ON_PREVIEWS_READY:
        _ON_PREVIEWS_READY.append(func)


def previews_ready(draft: Any) -> None:
    for func in _ON_PREVIEWS_READY:
        func(draft)
