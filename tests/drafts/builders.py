"""Builders for the drafts tests and for every test that needs a draft's previews made."""

from __future__ import annotations

from apps.drafts.models import PreviewJob
from apps.drafts.runs import draft_preview_run
from tests.core.builders import run_queued


def run_previews() -> None:
    """Make the previews of every draft whose preview job is queued."""
    run_queued(PreviewJob, draft_preview_run)
