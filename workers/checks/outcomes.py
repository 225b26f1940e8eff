"""What every check returns: an :class:`Outcome` with pass / warn / fail, and the grading
shared by the measured checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "warn", "fail"]
PASS: Status = "pass"  # noqa: S105 (a status, not a password)
WARN: Status = "warn"
FAIL: Status = "fail"
_RANK: dict[str, int] = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Outcome:
    key: str  # unique per draft, e.g. "resolution.hero"
    kind: str  # resolution | crop | softness | blockiness | noise | duplicate | colour
    label: str
    status: Status
    value: float | None
    threshold: float | None
    value_label: str
    threshold_label: str
    explanation: str


def worst(statuses: Iterable[str]) -> Status:
    rank = max((_RANK.get(status, 0) for status in statuses), default=0)
    return (PASS, WARN, FAIL)[rank]


def grade(value: float, warn_at: float, fail_at: float, *, higher_is_worse: bool) -> Status:
    if higher_is_worse:
        return FAIL if value > fail_at else WARN if value > warn_at else PASS
    return FAIL if value < fail_at else WARN if value < warn_at else PASS


def graded(
    key: str,
    label: str,
    value: float,
    *,
    warn_at: float,
    fail_at: float,
    higher_is_worse: bool,
    digits: int,
    value_label: str,
    explanations: tuple[str, str, str],
) -> Outcome:
    """One measured check graded against its warn and fail thresholds."""
    status = grade(value, warn_at, fail_at, higher_is_worse=higher_is_worse)
    compare = ("≤", ">") if higher_is_worse else ("≥", "<")
    return Outcome(
        key=key,
        kind=key,
        label=label,
        status=status,
        value=round(value, digits),
        threshold=fail_at,
        value_label=value_label,
        threshold_label=f"pass {compare[0]} {warn_at:g}, fail {compare[1]} {fail_at:g}",
        explanation=explanations[{PASS: 0, WARN: 1}.get(status, 2)],
    )
