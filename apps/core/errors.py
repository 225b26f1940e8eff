"""The one domain error.

A service that refuses a request (a rule of the domain, not a bug) raises ``Refusal`` with a
message written for the person who asked; views turn it into a message or a JSON error through
``apps.core.http.refuse``. Engines in ``workers/`` stay framework-free and keep their own
errors (``IntakeError``); services translate those at their boundary.
"""

from __future__ import annotations


class Refusal(Exception):
    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # for callers that branch on the reason, e.g. an intake's "duplicate"

    def __str__(self) -> str:
        return self.message


class StaleView(Refusal):
    """The page the person acted on no longer shows the truth: someone else (or another tab)
    changed the thing meanwhile, and nothing was saved. Views answer 409 to fetch calls and a
    conflict message to form posts, both saying what changed (``changes``), never a silent
    overwrite. A Refusal, so a caller that only knows about refusals still refuses."""

    def __init__(self, changes: str) -> None:
        super().__init__(
            f"Not saved: this changed while you were looking. Now: {changes} "
            "Look again, then decide.",
            code="stale",
        )
        self.changes = changes
