"""The rework app's sections of the draft page and the batch grid (registered in
ReworkConfig.ready): rework status, assignments, references, lineage, compare."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.drafts.models import Batch, Draft
from apps.rework.forms import ReferenceForm
from apps.rework.selectors import (
    batch_reference_drafts,
    draft_assignments,
    draft_lineage,
    version_note,
)
from apps.rework.services import draft_can_be_reference

# The decision buttons stay in view at 390×844: a long note is cut here and read in full on
# the assignment page.
NOTE_PREVIEW_CHARS = 160


def compare_tool(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    return render_to_string("rework/partials/compare_tool.html", {"draft": draft})


def rework_panel(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    assignments = list(draft_assignments(draft))
    # A regeneration: the assignment on the parent whose result is this draft.
    produced_by = next(
        (a for a in assignments if a.result_draft_id == draft.pk and a.draft_id != draft.pk), None
    )
    can_review = role_can(membership.role, Can.REVIEW)
    eligible = draft.is_reference or draft_can_be_reference(draft)
    return render_to_string(
        "rework/partials/rework_panel.html",
        {
            "draft": draft,
            "assignments": [a for a in assignments if a.draft_id == draft.pk],
            "produced_by": produced_by,
            "can_assign": role_can(membership.role, Can.ASSIGN_REWORK),
            "can_mark_reference": can_review and eligible,
            "reference_form": ReferenceForm(draft=draft) if can_review else None,
        },
        request=request,
    )


def lineage_panel(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    tree = draft_lineage(draft)
    if not tree.children and not tree.revisions:
        return ""
    return render_to_string(
        "rework/partials/lineage.html", {"draft": draft, "tree": tree}, request=request
    )


def batch_references(
    request: HttpRequest, batch: Batch, membership: Membership, drafts: Sequence[Any]
) -> str:
    references = list(batch_reference_drafts(batch))
    if not references:
        return ""
    return render_to_string(
        "rework/partials/batch_references.html",
        {"batch": batch, "references": references},
        request=request,
    )


def tile_badges(drafts: Sequence[Any]) -> dict[int, SafeString | str]:
    """Reference and revision badges from the rows the grid already loaded (no query)."""
    out: dict[int, SafeString | str] = {}
    for d in drafts:
        parts = []
        if d.is_reference:
            parts.append(SafeString('<span class="reference-badge">Reference</span>'))
        if d.revision > 1:
            parts.append(format_html('<span class="tag">revision {}</span>', d.revision))
        if d.parent_id:
            parts.append(format_html('<span class="tag">regenerated from #{}</span>', d.parent_id))
        if parts:
            out[d.pk] = SafeString("".join(parts))
    return out


def version_note_panel(request: HttpRequest, draft: Draft, membership: Membership) -> str:
    """“Note from <creator>: …” beside the decision: what changed in the version under review."""
    note = version_note(draft)
    if note is None:
        return ""
    return render_to_string(
        "rework/partials/version_note.html", {"note": note, "limit": NOTE_PREVIEW_CHARS}
    )
