"""Other apps react to rework (webhooks send assignment.created / assignment.submitted)
without apps.rework knowing them. Listeners run inside the service's transaction; whatever
they queue leaves after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

AssignmentListener = Callable[[str, Any], None]  # ("created" | "submitted", assignment)
_LISTENERS: list[AssignmentListener] = []


def register_assignment_listener(func: AssignmentListener) -> None:
    if func not in _LISTENERS:
        _LISTENERS.append(func)


def assignment_changed(change: str, assignment: Any) -> None:
    for func in _LISTENERS:
        func(change, assignment)
