from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404

from apps.campaigns.models import Campaign, Membership
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import AnyUser, require_membership
from apps.checks.selectors import CHECK_FILTERS, filter_drafts_by_check, sort_drafts_by_check
from apps.drafts.models import (
    Batch,
    Decision,
    Draft,
    DraftReference,
    DraftRevision,
    Rendition,
    SavedFilter,
)
from apps.drafts.search import Query, parse_query

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


@dataclass(frozen=True)
class GridFilters:
    """What the grid narrows a search to besides the query: its batch and its tabs."""

    batch_id: int | None = None
    decision: str = "all"
    check: str = ""
    sort: str = ""


def search_query(text: str) -> Query:
    # Check results in the query language are the grid's check filters ("check:softness").
    return parse_query(text, check_values=[key for key in CHECK_FILTERS if key])


def _matching_words(qs: QuerySet[Draft], document_words: list[str]) -> QuerySet[Draft]:
    """Drafts whose search document has a word starting with each of ``document_words``
    (apps.drafts.search says why both databases give the same answer)."""
    if not document_words:
        return qs
    if connection.vendor == "postgresql":
        # The expression matches the GIN index of migration drafts 0005 exactly.
        raw = " & ".join(f"{word}:*" for word in document_words)
        return qs.alias(search_vector=SearchVector("search_document", config="simple")).filter(
            search_vector=SearchQuery(raw, search_type="raw", config="simple")
        )
    for word in document_words:
        qs = qs.filter(search_document__contains=f" {word}")
    return qs


def drafts_search(
    user: AnyUser,
    campaign: Campaign,
    query: str | Query,
    filters: GridFilters | None = None,
) -> QuerySet[Draft]:
    """The drafts of ``campaign`` that match ``query`` (the grid's query language), narrowed by
    the grid's batch and tabs: the one search of the app. Raises 404/403 like the getters for a
    person outside the campaign."""
    require_membership(user, campaign.pk, Can.VIEW)
    parsed = search_query(query) if isinstance(query, str) else query
    filters = filters or GridFilters()
    qs = Draft.objects.filter(campaign_id=campaign.pk)
    if filters.batch_id is not None:
        qs = qs.filter(batch_id=filters.batch_id)
    qs = _matching_words(qs, parsed.document_words)
    if parsed.seed is not None:
        qs = qs.filter(seed=parsed.seed)
    if parsed.by:
        qs = qs.filter(uploaded_by__username__iexact=parsed.by)
    if parsed.decision == "awaiting":
        qs = qs.exclude(proposed_decision="")
    elif parsed.decision == "undecided":
        qs = qs.filter(decision=Decision.UNDECIDED)
    elif parsed.decision:
        qs = qs.filter(decision=parsed.decision)
    if parsed.after is not None:
        qs = qs.filter(uploaded_at__date__gte=parsed.after)
    if parsed.before is not None:
        qs = qs.filter(uploaded_at__date__lte=parsed.before)
    qs = filter_drafts_by_check(qs, parsed.check)
    wanted = DECISION_FILTERS.get(filters.decision)
    if wanted is not None:
        qs = qs.filter(decision=wanted)
    # Automatic checks (apps.checks): unknown values leave the queryset as it is.
    qs = filter_drafts_by_check(qs, filters.check)
    return sort_drafts_by_check(qs.order_by("id"), filters.sort)


def grid_drafts(qs: QuerySet[Draft]) -> QuerySet[Draft]:
    """What a grid tile reads, for any list of drafts."""
    return (
        qs.select_related("preview_job")
        # A tile shows none of the generation text; 60 rows of prompts and parameter JSON were
        # read and decoded for nothing.
        .defer(
            "prompt",
            "negative_prompt",
            "parameters",
            "metadata_sources",
            "generation_passes",
            "search_document",
        )
        .prefetch_related(
            Prefetch(
                "renditions", queryset=Rendition.objects.filter(name="thumb"), to_attr="thumbs"
            )
        )
    )


def saved_filters(user: User, campaign: Campaign) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(user_id=user.pk, campaign_id=campaign.pk)


# What a grid card and the decision counts show of a draft's decision: a change to any of these
# is a change the open grid must show (reviews.selectors.decision_version is the per-draft token).
_DECISION_STATE = (
    "id",
    "decision",
    "decided_by_id",
    "decided_at",
    "proposed_decision",
    "proposed_by_id",
    "proposed_at",
    "signed_off_by_id",
    "signed_off_at",
    "revision",
)
# Their columns, as the inner query of decisions_version names them.
_COLUMNS = tuple(f.column for f in Draft._meta.concrete_fields if f.attname in _DECISION_STATE)


def batch_decisions_version(batch_id: int) -> str:
    """A token for the decisions of every draft in a batch, in one query: the open grid sends
    it back (static/js/poll.js live mode) and is answered 304 until someone decides, signs off,
    adds or removes a draft in the batch."""
    return decisions_version(Draft.objects.filter(batch_id=batch_id).order_by("pk"))


def decisions_version(drafts: QuerySet[Draft]) -> str:
    """A token for the decisions of ``drafts``, in one query: any decision, proposal or
    sign-off among them, or a draft joining or leaving, changes it. Live lists (the batch grid,
    the sign-off queue) answer 304 while the page shows this token, so it is asked every few
    seconds by every open page: on PostgreSQL the rows are hashed inside the database (one
    short row back instead of every draft's state: 11 ms against 27 ms for a 10,000-draft
    batch); elsewhere here."""
    state = drafts.order_by().values_list(*_DECISION_STATE)
    if connection.vendor == "postgresql":
        sql, params = state.query.sql_with_params()
        # Column by column, NULL as "" and "|" between: the same rows give the same text.
        text = " || '|' || ".join(f"coalesce(state.{column}::text, '')" for column in _COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT md5(coalesce(string_agg({text}, E'\\n' ORDER BY state.id), '')) "  # noqa: S608 - column names from the model, values as parameters
                f"FROM ({sql}) AS state",
                params,
            )
            return str(cursor.fetchone()[0])[:16]
    digest = hashlib.blake2s(digest_size=8)
    for row in sorted(state):
        digest.update("|".join("" if value is None else str(value) for value in row).encode())
        digest.update(b"\n")
    return digest.hexdigest()


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


# --- stacks ------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Drafts the grid shows as one card: a near-duplicate set (apps.checks) or, failing that,
    drafts of one prompt (different seeds). ``first`` is the card's draft, in grid order."""

    key: str
    first_id: int
    size: int


def stack_key(prompt_key: str, dup_group: int | None) -> str:
    # A near-duplicate set wins over a shared prompt: it is the closer likeness.
    if dup_group is not None:
        return f"d{dup_group}"
    if prompt_key:
        return f"p{prompt_key}"
    return ""


def grid_stacks(qs: QuerySet[Draft]) -> list[Stack]:
    """The stacks of ``qs`` in its order, in one query of three small columns per draft."""
    stacks: dict[str, Stack] = {}
    ordered: list[Stack] = []
    for pk, key_of_prompt, dup_group in qs.values_list(
        "id", "prompt_key", "check_summary__dup_group"
    ):
        key = stack_key(key_of_prompt, dup_group)
        if key and key in stacks:
            stacks[key].size += 1
            continue
        stack = Stack(key, pk, 1)
        ordered.append(stack)
        if key:
            stacks[key] = stack
    return ordered


def stack_members(batch: Batch, key: str) -> QuerySet[Draft]:
    """The drafts of one stack in a batch, best first: fewest failed checks, then sharpest."""
    qs = Draft.objects.filter(batch_id=batch.pk)
    if key.startswith("d") and key[1:].isdigit():
        qs = qs.filter(check_summary__dup_group=int(key[1:]))
    elif key.startswith("p") and len(key) > 1:
        qs = qs.filter(prompt_key=key[1:], check_summary__dup_group__isnull=True)
    else:
        return qs.none()
    return grid_drafts(qs).order_by(
        F("check_summary__fail_count").asc(nulls_last=True),
        F("check_summary__sharpness").desc(nulls_last=True),
        "id",
    )
