"""The answer to acting on an out-of-date page: refused, with what changed, never an overwrite."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class StaleView(ValidationError):
    """The page the person acted on no longer shows the truth: someone else (or another tab)
    changed the thing meanwhile. Views answer 409 to fetch calls and a conflict message to
    form posts, both saying what changed; nothing was saved. A ValidationError, so a caller
    that only knows about refusals still refuses."""

    def __init__(self, changes: str) -> None:
        self.changes = changes
        super().__init__(
            f"Not saved: this changed while you were looking. Now: {changes} "
            "Look again, then decide."
        )
