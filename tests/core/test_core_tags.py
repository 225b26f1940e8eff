"""The ``ago`` filter is the one way pages say how long ago something happened."""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_uses_timesince_which_says_0_minutes_for_a_fresh_moment():
    using = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "|timesince" in path.read_text(encoding="utf-8")
    ]
    assert using == []
