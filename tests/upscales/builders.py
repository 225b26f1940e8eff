"""Drafts ready for the upscale tests."""

from __future__ import annotations

from apps.drafts.models import Batch, Decision, Draft
from tests.factories import make_draft


def kept_draft(batch: Batch, **kw) -> Draft:
    """A real draft (through intake), marked kept so it may be upscaled."""
    draft = make_draft(batch, **kw)
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    return draft
