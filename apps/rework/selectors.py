from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Campaign, Membership
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import AnyUser, require_membership
from apps.core.people import person_name
from apps.drafts.models import Batch, Draft, DraftRevision, Rendition
from apps.drafts.selectors import Scoped
from apps.reviews.selectors import decision_changes, decision_version, review_settings_for
from apps.rework.models import Assignment, AssignmentKind, AssignmentStatus, Notification

MAX_LINEAGE_DEPTH = 50


def rework_version(draft: Draft) -> str:
    """The token the assign page posts back: the draft's decision state and its newest
    assignment. Either moving on means the page's art director decided on an old picture."""
    latest = draft.assignments.order_by("-id").values_list("pk", flat=True).first()
    return f"{decision_version(draft)}.{latest or 0}"


def rework_changes(draft: Draft) -> str:
    """What an out-of-date assign page missed: the newest assignment, and the decision now."""
    latest = draft.assignments.select_related("assignee", "assigned_by").order_by("-id").first()
    said = decision_changes(draft)
    if latest is None:
        return said
    by = person_name(latest.assigned_by, "someone")
    return (
        f"{by} assigned {latest.get_kind_display().lower()} to {person_name(latest.assignee)} "
        f"({latest.get_status_display().lower()}, due {latest.due_date:%d %b}); {said}"
    )


def get_assignment_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Scoped[Assignment]:
    assignment = (
        Assignment.objects.select_related(
            "campaign",
            "draft",
            "draft__batch",
            "assignee",
            "assigned_by",
            "completed_by",
            "result_draft",
            "result_revision",
        )
        .filter(pk=pk)
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment")
    return Scoped(assignment, require_membership(user, assignment.campaign_id, need))


def get_revision_for_user(user: AnyUser, pk: int) -> DraftRevision:
    revision = DraftRevision.objects.select_related("draft").filter(pk=pk).first()
    if revision is None:
        raise Http404("No such revision")
    require_membership(user, revision.draft.campaign_id, Can.VIEW)
    return revision


@dataclass(frozen=True)
class VersionNote:
    """The creator's note for the reviewers on the version a draft shows now."""

    author: str
    text: str
    assignment_id: int | None


def version_note(draft: Draft) -> VersionNote | None:
    """The note that came with the draft's current file: an edit's revision note, or for a
    regenerated draft (still at its first revision) the note given with the regeneration.
    After a later edit the regeneration's note no longer describes the file, so it is not
    shown."""
    if draft.revision > 1:
        revision = (
            DraftRevision.objects.select_related("created_by")
            .filter(draft=draft, number=draft.revision)
            .exclude(note="")
            .first()
        )
        if revision is None:
            return None
        assignment_id = (
            Assignment.objects.filter(result_revision=revision).values_list("pk", flat=True).first()
        )
        return VersionNote(person_name(revision.created_by), revision.note, assignment_id)
    assignment = (
        Assignment.objects.select_related("completed_by")
        .filter(result_draft=draft, kind=AssignmentKind.REGENERATE)
        .exclude(result_note="")
        .order_by("-completed_at", "-id")
        .first()
    )
    if assignment is None:
        return None
    return VersionNote(person_name(assignment.completed_by), assignment.result_note, assignment.pk)


def _assignments() -> QuerySet[Assignment]:
    return Assignment.objects.select_related(
        "draft", "campaign", "assignee", "assigned_by", "result_draft"
    ).prefetch_related(
        Prefetch("draft__renditions", queryset=Rendition.objects.filter(name="thumb"))
    )


@dataclass
class Inbox:
    overdue: list[Assignment] = field(default_factory=list)
    open: list[Assignment] = field(default_factory=list)
    recent: list[Assignment] = field(default_factory=list)
    assigned_by_me: list[Assignment] = field(default_factory=list)


def inbox_for(user: User, *, recent: int = 20) -> Inbox:
    """A person's rework: open (overdue first) and recently finished assignments, and the
    open ones they assigned to others; only in campaigns they still belong to."""
    mine = _assignments().filter(campaign__memberships__user=user)
    inbox = Inbox()
    today = timezone.localdate()
    for assignment in mine.filter(assignee=user, status=AssignmentStatus.OPEN).order_by(
        "due_date", "id"
    ):
        (inbox.overdue if assignment.due_date < today else inbox.open).append(assignment)
    inbox.recent = list(
        mine.filter(assignee=user)
        .exclude(status=AssignmentStatus.OPEN)
        .order_by("-completed_at", "-id")[:recent]
    )
    inbox.assigned_by_me = list(
        mine.filter(assigned_by=user, status=AssignmentStatus.OPEN)
        .exclude(assignee=user)
        .order_by("due_date", "id")
    )
    return inbox


def draft_assignments(draft: Draft) -> QuerySet[Assignment]:
    """Assignments on the draft, and the one that produced it (a regeneration's or an edit's)."""
    return (
        Assignment.objects.filter(Q(draft=draft) | Q(result_draft=draft))
        # Prefetched, not joined: most drafts have no assignment, and a seven-table join cost
        # more to plan than the empty answer takes to read.
        .prefetch_related(
            "assignee", "assigned_by", "draft", "result_draft", "result_revision", "regions"
        )
        .order_by("-created_at", "-id")
    )


def assignable_people(campaign: Campaign) -> list[User]:
    """Members who upload drafts: creators first, then art directors."""
    memberships = Membership.objects.filter(campaign=campaign).select_related("user")
    people = [m for m in memberships if role_can(m.role, Can.UPLOAD)]
    people.sort(key=lambda m: (m.role != "creator", m.user.get_username()))
    return [m.user for m in people]


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass
class NotificationGroup:
    """A draft's notifications together (newest first); one without a draft stands alone."""

    draft: Draft | None
    items: list[Notification] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(1 for n in self.items if n.resolved_at is None and n.read_at is None)


def notifications_by_draft(user: User, *, limit: int = 100) -> list[NotificationGroup]:
    """The person's notifications grouped by draft, the group with the newest one first."""
    groups: list[NotificationGroup] = []
    by_draft: dict[int, NotificationGroup] = {}
    for n in (
        Notification.objects.filter(recipient=user)
        .select_related("campaign", "draft")
        .order_by("-created_at", "-id")[:limit]
    ):
        if n.draft_id is None:
            groups.append(NotificationGroup(draft=None, items=[n]))
            continue
        group = by_draft.get(n.draft_id)
        if group is None:
            group = by_draft[n.draft_id] = NotificationGroup(draft=n.draft)
            groups.append(group)
        group.items.append(n)
    return groups


def batch_reference_drafts(batch: Batch) -> QuerySet[Draft]:
    return (
        Draft.objects.filter(reference_batch=batch, is_reference=True)
        .prefetch_related(
            Prefetch(
                "renditions", queryset=Rendition.objects.filter(name="thumb"), to_attr="thumbs"
            )
        )
        .order_by("reference_marked_at", "id")
    )


# --- lineage ------------------------------------------------------------------------------------


@dataclass
class LineageNode:
    draft: Draft
    revisions: list[DraftRevision] = field(default_factory=list)
    children: list[LineageNode] = field(default_factory=list)

    def walk(self) -> list[LineageNode]:
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


def lineage_path(draft: Draft) -> list[Draft]:
    """The draft's ancestors, oldest first, then the draft itself: the path from the family's
    root down to it, walking up parents within the campaign (a cycle or a missing parent ends
    the walk). The flat shape of ``draft_lineage``, for the asset record."""
    chain, seen = [draft], {draft.pk}
    current = draft
    for _ in range(MAX_LINEAGE_DEPTH):
        if current.parent_id is None or current.parent_id in seen:
            break
        parent = Draft.objects.filter(pk=current.parent_id, campaign_id=draft.campaign_id).first()
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.pk)
        current = parent
    return chain[::-1]


def lineage_root(draft: Draft) -> Draft:
    """The first draft of the family."""
    return lineage_path(draft)[0]


def draft_lineage(draft: Draft) -> LineageNode:
    """The draft's family as one tree: the root, its regenerations (child drafts, at any depth)
    and every draft's edits (revisions). One query per generation plus one for revisions."""
    root = lineage_root(draft)
    nodes: dict[int, LineageNode] = {root.pk: LineageNode(root)}
    level = [root.pk]
    for _ in range(MAX_LINEAGE_DEPTH):
        children = list(
            Draft.objects.filter(parent_id__in=level, campaign_id=root.campaign_id)
            .exclude(pk__in=list(nodes))
            .select_related("decided_by")
            .order_by("id")
        )
        if not children:
            break
        for child in children:
            assert child.parent_id is not None
            node = LineageNode(child)
            nodes[child.pk] = node
            nodes[child.parent_id].children.append(node)
        level = [child.pk for child in children]
    revisions = DraftRevision.objects.filter(draft_id__in=list(nodes)).select_related("created_by")
    for revision in revisions.order_by("number"):
        nodes[revision.draft_id].revisions.append(revision)
    return nodes[root.pk]


# --- compare ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareImage:
    key: str  # "d12" (a draft's current file), "r7" (a revision), "product"
    label: str
    src: str  # what the page shows first (a preview where there is one)
    full_src: str  # real pixels, for 100 % and beyond
    width: int
    height: int
    detail_url: str = ""
    # Whose generation record the image carries (a revision carries its draft's); None for the
    # product reference. Not part of the page's JSON: the parameter diff reads it.
    source: Draft | None = field(default=None, compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "src": self.src,
            "fullSrc": self.full_src,
            "width": self.width,
            "height": self.height,
        }


def _draft_image(draft: Draft, has_preview: bool) -> CompareImage:
    version = f"?v={draft.sha256[:12]}"
    original = reverse("drafts:image", args=[draft.pk, "original"]) + version
    preview = reverse("drafts:image", args=[draft.pk, "preview"]) + version
    suffix = f" (revision {draft.revision})" if draft.revision > 1 else ""
    return CompareImage(
        key=f"d{draft.pk}",
        label=f"#{draft.pk} {draft.original_name}{suffix}",
        src=preview if has_preview else original,
        full_src=original,
        width=draft.width,
        height=draft.height,
        detail_url=reverse("drafts:detail", args=[draft.pk]),
        source=draft,
    )


def _revision_image(revision: DraftRevision, draft: Draft) -> CompareImage:
    url = reverse("rework:revision-image", args=[revision.pk]) + f"?v={revision.sha256[:12]}"
    current = " — current" if revision.number == draft.revision else ""
    return CompareImage(
        key=f"r{revision.pk}",
        label=f"#{draft.pk} revision {revision.number}{current}: {revision.original_name}",
        src=url,
        full_src=url,
        width=revision.width,
        height=revision.height,
        detail_url=reverse("drafts:detail", args=[draft.pk]),
        source=draft,
    )


def compare_choices(draft: Draft) -> list[CompareImage]:
    """What the draft can be compared with: every version in its lineage (drafts and their
    revisions) and the campaign's product reference image."""
    tree = draft_lineage(draft)
    nodes = tree.walk()
    with_preview = set(
        Rendition.objects.filter(
            draft_id__in=[n.draft.pk for n in nodes], name="preview"
        ).values_list("draft_id", flat=True)
    )
    choices: list[CompareImage] = []
    for node in nodes:
        choices.append(_draft_image(node.draft, node.draft.pk in with_preview))
        for revision in node.revisions:
            if revision.number != node.draft.revision:  # the current one is the draft itself
                choices.append(_revision_image(revision, node.draft))
    settings = review_settings_for(draft.campaign)
    if settings.product_reference_key:
        url = reverse("reviews:product-reference", args=[draft.campaign_id])
        url += f"?v={settings.product_reference_sha256[:12]}"
        choices.append(
            CompareImage(
                key="product",
                label=f"Product reference: {settings.product_reference_name}",
                src=url,
                full_src=url,
                width=settings.product_reference_width or 1,
                height=settings.product_reference_height or 1,
            )
        )
    return choices


def default_compare_pair(draft: Draft, choices: list[CompareImage]) -> tuple[str, str]:
    """Left: the version before this one (the parent, else the previous revision, else the
    product reference); right: this draft as it is now."""
    keys = [c.key for c in choices]
    right = f"d{draft.pk}"
    if draft.parent_id and f"d{draft.parent_id}" in keys:
        return f"d{draft.parent_id}", right
    previous = (
        DraftRevision.objects.filter(draft=draft, number__lt=draft.revision)
        .order_by("-number")
        .first()
    )
    if previous is not None and f"r{previous.pk}" in keys:
        return f"r{previous.pk}", right
    if "product" in keys:
        return "product", right
    return right, right


# --- parameter diff -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffPart:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    """One line of the compare page's parameter diff: a field and both sides' values, each as
    parts so that a prompt marks only the words that changed."""

    label: str
    a: list[DiffPart]
    b: list[DiffPart]
    differs: bool


# Readers keep each generator's own vocabulary (workers.genmeta: "CFG scale" from Automatic1111,
# "cfg" from ComfyUI); the diff lines the same setting up under one name.
_PARAMETER_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Sampler", ("Sampler", "sampler_name", "sampler")),
    ("Scheduler", ("Schedule type", "scheduler")),
    ("Steps", ("Steps", "steps")),
    ("CFG", ("CFG scale", "cfg", "cfg_scale", "guidance_scale")),
    ("Denoise", ("Denoising strength", "denoise")),
)
_NAMED_PARAMETERS = frozenset(name for _, names in _PARAMETER_ROWS for name in names)
MISSING = "—"


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _word_diff(a: str, b: str) -> tuple[list[DiffPart], list[DiffPart]]:
    """Both texts cut into parts, the words one side has and the other lacks marked changed."""
    words_a, words_b = re.findall(r"\S+|\s+", a), re.findall(r"\S+|\s+", b)
    parts_a: list[DiffPart] = []
    parts_b: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=words_a, b=words_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            parts_a.append(DiffPart("".join(words_a[i1:i2]), op != "equal"))
        if j2 > j1:
            parts_b.append(DiffPart("".join(words_b[j1:j2]), op != "equal"))
    return parts_a, parts_b


def _row(label: str, a: str, b: str, *, words: bool = False) -> DiffRow:
    differs = a != b
    if words and a and b and differs:
        parts_a, parts_b = _word_diff(a, b)
        return DiffRow(label, parts_a, parts_b, True)
    return DiffRow(
        label, [DiffPart(a or MISSING, differs)], [DiffPart(b or MISSING, differs)], differs
    )


def _parameter(parameters: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        if name in parameters:
            return _shown(parameters[name])
    return ""


def generation_diff(left: CompareImage, right: CompareImage) -> list[DiffRow]:
    """How the two images were made, field by field, from their drafts' generation records (the
    fields the asset record shows): prompt, negative prompt, seed, model, generator, the usual
    sampler settings under one name whatever the generator called them, then every other
    parameter either side has. Fields neither side knows are left out."""

    def record(image: CompareImage) -> dict[str, Any]:
        draft = image.source
        if draft is None:
            return {"parameters": {}}
        return {
            "Prompt": draft.prompt,
            "Negative prompt": draft.negative_prompt,
            "Seed": _shown(draft.seed),
            "Model": draft.model_name,
            "Generator": draft.generator,
            "parameters": dict(draft.parameters or {}),
        }

    a, b = record(left), record(right)
    rows = [_row("Real size", f"{left.width}×{left.height}", f"{right.width}×{right.height}")]
    for label in ("Prompt", "Negative prompt", "Seed", "Model", "Generator"):
        value_a, value_b = a.get(label, ""), b.get(label, "")
        if value_a or value_b:
            rows.append(_row(label, value_a, value_b, words=label.endswith("rompt")))
    params_a, params_b = a["parameters"], b["parameters"]
    for label, names in _PARAMETER_ROWS:
        value_a, value_b = _parameter(params_a, names), _parameter(params_b, names)
        if value_a or value_b:
            rows.append(_row(label, value_a, value_b))
    others = sorted((set(params_a) | set(params_b)) - _NAMED_PARAMETERS, key=str.lower)
    for name in others:
        value_a, value_b = _shown(params_a.get(name)), _shown(params_b.get(name))
        if value_a or value_b:
            rows.append(_row(name, value_a, value_b))
    return rows


def user_assignments(user: User, *, campaign_ids: set[int] | None = None) -> QuerySet[Assignment]:
    """Assignments given to ``user`` in campaigns they still belong to, newest first."""
    qs = Assignment.objects.filter(assignee=user, campaign__memberships__user=user).select_related(
        "assignee", "assigned_by"
    )
    if campaign_ids is not None:
        qs = qs.filter(campaign_id__in=campaign_ids)
    return qs
