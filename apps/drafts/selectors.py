from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import AnyUser, require_membership
from apps.checks.selectors import filter_drafts_by_check, sort_drafts_by_check
from apps.drafts.models import Batch, Decision, Draft, DraftReference, DraftRevision, Rendition

T = TypeVar("T")


@dataclass(frozen=True)
class Scoped(Generic[T]):
    obj: T
    membership: Membership

    def can(self, capability: Can) -> bool:
        return role_can(self.membership.role, capability)


def get_batch_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Scoped[Batch]:
    batch = Batch.objects.select_related("campaign").filter(pk=pk).first()
    if batch is None:
        raise Http404("No such batch")
    return Scoped(batch, require_membership(user, batch.campaign_id, need))


def get_draft_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Scoped[Draft]:
    draft = (
        Draft.objects.select_related("campaign", "batch", "uploaded_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if draft is None:
        raise Http404("No such draft")
    return Scoped(draft, require_membership(user, draft.campaign_id, need))


def get_reference_for_user(user: AnyUser, pk: int) -> DraftReference:
    ref = DraftReference.objects.select_related("draft").filter(pk=pk).first()
    if ref is None:
        raise Http404("No such reference")
    require_membership(user, ref.draft.campaign_id, Can.VIEW)
    return ref


DECISION_FILTERS = {
    "all": None,
    "undecided": Decision.UNDECIDED,
    "keep": Decision.KEEP,
    "regenerate": Decision.REGENERATE,
    "reject": Decision.REJECT,
}


def batch_drafts(
    batch: Batch, *, decision_filter: str = "all", check_filter: str = "", sort: str = ""
) -> QuerySet[Draft]:
    qs = (
        batch.drafts.select_related("preview_job")
        # A tile shows none of the generation text; 60 rows of prompts and parameter JSON were
        # read and decoded for nothing.
        .defer("prompt", "negative_prompt", "parameters", "metadata_sources", "generation_passes")
        .prefetch_related(
            Prefetch(
                "renditions", queryset=Rendition.objects.filter(name="thumb"), to_attr="thumbs"
            )
        )
        .order_by("id")
    )
    wanted = DECISION_FILTERS.get(decision_filter)
    if decision_filter in DECISION_FILTERS and wanted is not None:
        qs = qs.filter(decision=wanted)
    # Automatic checks (apps.checks): unknown values leave the queryset as it is.
    qs = filter_drafts_by_check(qs, check_filter)
    return sort_drafts_by_check(qs, sort)


def decision_counts(drafts: QuerySet[Draft]) -> dict[str, int]:
    # Counting the decision column, not the id: PostgreSQL answers from the (batch, decision)
    # index alone (an index-only scan) instead of reading every row of the batch.
    row = drafts.aggregate(
        all=Count("decision"),
        undecided=Count("decision", filter=Q(decision=Decision.UNDECIDED)),
        keep=Count("decision", filter=Q(decision=Decision.KEEP)),
        regenerate=Count("decision", filter=Q(decision=Decision.REGENERATE)),
        reject=Count("decision", filter=Q(decision=Decision.REJECT)),
    )
    return {key: int(value or 0) for key, value in row.items()}


def campaign_batches(campaign_id: int) -> QuerySet[Batch]:
    return (
        Batch.objects.filter(campaign_id=campaign_id)
        .select_related("created_by")
        .annotate(
            draft_count=Count("drafts"),
            undecided_count=Count("drafts", filter=Q(drafts__decision=Decision.UNDECIDED)),
            keep_count=Count("drafts", filter=Q(drafts__decision=Decision.KEEP)),
            regenerate_count=Count("drafts", filter=Q(drafts__decision=Decision.REGENERATE)),
            reject_count=Count("drafts", filter=Q(drafts__decision=Decision.REJECT)),
        )
    )


def neighbours(draft: Draft, *, decision_filter: str = "all") -> tuple[int | None, int | None]:
    """Previous and next draft ids in the same batch, under the grid's filter."""
    qs = Draft.objects.filter(batch_id=draft.batch_id)
    wanted = DECISION_FILTERS.get(decision_filter)
    if wanted is not None:
        qs = qs.filter(decision=wanted)
    prev_id = qs.filter(id__lt=draft.pk).order_by("-id").values_list("id", flat=True).first()
    next_id = qs.filter(id__gt=draft.pk).order_by("id").values_list("id", flat=True).first()
    return prev_id, next_id


def draft_position(draft: Draft) -> tuple[int, int]:
    """Where the draft stands in its batch: one index-only scan of (batch, id)."""
    row = Draft.objects.filter(batch_id=draft.batch_id).aggregate(
        position=Count("id", filter=Q(id__lte=draft.pk)), total=Count("id")
    )
    return int(row["position"]), int(row["total"])


def draft_rendition(draft: Draft, name: str) -> Rendition | None:
    return Rendition.objects.filter(draft=draft, name=name).first()


def carried_batch(campaign_id: int, raw_id: str | None) -> Batch | None:
    """The batch named in an upload page's ``?batch=`` when it carries a record (same
    campaign only; anything else is ignored, as the form ignores it)."""
    if not raw_id or not raw_id.isdigit() or len(raw_id) > 12:
        return None
    batch = Batch.objects.filter(pk=int(raw_id), campaign_id=campaign_id).first()
    return batch if batch is not None and batch.carried else None


@dataclass(frozen=True)
class DraftFile:
    """One stored file of a draft: the generated original, or its current (edited) file."""

    file_key: str
    sha256: str
    format: str
    width: int
    height: int
    byte_size: int


def original_file(draft: Draft) -> DraftFile:
    """The file the generator made: revision 1 once the draft has been edited (the draft's own
    fields then describe the newest edit), else the draft's file."""
    first = DraftRevision.objects.filter(draft=draft, number=1).first()
    source: Draft | DraftRevision = first if first is not None else draft
    return DraftFile(
        file_key=source.file_key,
        sha256=source.sha256,
        format=source.format,
        width=source.width,
        height=source.height,
        byte_size=source.byte_size,
    )


def draft_edits(draft: Draft) -> list[DraftRevision]:
    """Every edit of a draft after the generated original, oldest first."""
    return list(
        DraftRevision.objects.filter(draft=draft, number__gt=1)
        .select_related("created_by")
        .order_by("number")
    )
