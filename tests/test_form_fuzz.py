"""Hypothesis throws hostile values at every form field, JSON body and query parameter.

Every answer is a clear refusal (a 4xx, or for a form posted without JavaScript the redirect
back with an error message) or a normal success where the value happens to be valid; never a
500, and never a change to another campaign's rows. A form is drawn in one of three modes:
every field from its valid pool (the request must then succeed), one field broken (missing,
hostile or repeated), or chaos. Ids are drawn as names ("@their-batch") and resolved against
the fixture, so ``@example`` pins the inputs that once caused a 500. Each example runs in a
savepoint that is rolled back, so examples are independent and a failure shrinks cleanly.
Bounded: a fixed number of examples, no deadline, derandomised for CI. The upload files have
their own fuzz in tests/drafts/test_intake_fuzz.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import ERROR, SUCCESS, WARNING, get_messages
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from apps.campaigns.models import AuditEvent, Campaign, Membership
from apps.drafts.models import Batch, Draft, DraftReference
from apps.exports.models import (
    ChannelPreset,
    CropOverride,
    ExportJob,
    FocalArea,
    Pack,
    PackKind,
)
from apps.exports.services import focal_set, pack_queue, preset_defaults_ensure
from apps.reviews.models import (
    Criterion,
    Rating,
    Region,
    RegionCategory,
    Review,
    ReviewSettings,
    SignOffRule,
)
from apps.reviews.services import review_submit
from apps.rework.models import Assignment, AssignmentStatus, Notification, NotificationKind
from apps.rework.services import DUE_WITHIN_DAYS, assignment_create, notification_send
from apps.upscales.models import UpscaleJob
from apps.upscales.selectors import model_options
from tests.conftest import ROLES
from tests.exports.builders import kept_draft
from tests.factories import BatchFactory, make_draft
from tests.images import png_bytes
from tests.test_permissions import ROUTES, matrix_objects
from workers.focal import Box


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- hostile values --------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\ufeff",
    "\u200b",
    "e\u0301",
    "𝕏𝕏𝕏",
    "🙂",
    "\r\nX-Injected: 1",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "{}",
    "[]",
    "null",
    "true",
    "-1",
    "0",
    "1",
    "1.5",
    "1e400",
    "nan",
    "-Infinity",
    "9" * 30,
    "9" * 5000,
    "²",
    "١٢",
    "0x10",
    "1_000",
    " 1 ",
    "x" * 5000,
    "é",
    "rework:inbox",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
]
# A form post cannot carry a lone surrogate (it has no UTF-8), so only JSON sends those.
FORM_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
HOSTILE = st.one_of(st.sampled_from(NASTY), FORM_TEXT)
BAD_ID = st.one_of(
    st.sampled_from(["9" * 30, "9" * 5000, str(2**63), "²", "١", "-1", "0", "", "1.5", " 1 "]),
    HOSTILE,
)
NUMBER_TEXT = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "5e-324", str(10**400), "-0.5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    HOSTILE,
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([*NASTY, "\ud800", "a\udfffb"]),
)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def choice(*values: Any) -> SearchStrategy[Any]:
    return st.sampled_from(values)


def clean_text(max_size: int) -> SearchStrategy[str]:
    """Text a form accepts: no NUL, no surrogates, not blank; RTL marks and emoji welcome."""
    return st.one_of(
        st.text(
            alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            min_size=1,
            max_size=40,
        ).filter(str.strip),
        choice("Bottle, not can", "\u202eright to left\u202c", "🙂 ø e\u0301", "x" * max_size),
    )


@dataclass(frozen=True)
class Spec:
    """A form field: values that must be accepted, and hostile ones."""

    good: SearchStrategy[Any]
    bad: SearchStrategy[Any] = HOSTILE
    required: bool = True


@dataclass
class Drawn:
    data: dict[str, Any]
    valid: bool = False  # every field from its valid pool: the request must succeed

    def last(self, name: str, default: Any = "") -> Any:
        """What Django reads for a field: the last of repeated values."""
        value = self.data.get(name, default)
        return value[-1] if isinstance(value, list) else value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@st.composite
def form(draw: st.DrawFn, **fields: Spec) -> Drawn:
    mode = draw(st.sampled_from(["valid", "one broken", "chaos"]))
    broken = draw(st.sampled_from(sorted(fields))) if mode == "one broken" else None
    data: dict[str, Any] = {}
    for name, spec in fields.items():
        if mode == "valid" or (mode == "one broken" and name != broken):
            if spec.required or draw(st.booleans()):
                data[name] = draw(spec.good)
            continue
        how = draw(st.sampled_from(["hostile", "hostile", "missing", "repeated"]))
        if how == "hostile":
            data[name] = draw(spec.bad)
        elif how == "repeated":
            values = draw(st.lists(st.one_of(spec.good, spec.bad), min_size=2, max_size=3))
            # A field that is a list already (repeated ids) repeats by getting longer.
            data[name] = [v for value in values for v in _as_list(value)]
    if mode == "chaos" and draw(st.booleans()):
        data[draw(choice("zz", "id", "pk", "campaign", "csrfmiddlewaretoken"))] = draw(HOSTILE)
    return Drawn(data, valid=mode == "valid")


# --- the world: this campaign and someone else's ---------------------------------------------


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example in a savepoint and undo it, whatever happened."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def campaign_rows(campaign: Campaign) -> dict[str, list[dict[str, Any]]]:
    """Every row that belongs to ``campaign``, to compare before and after."""
    tables = {
        "campaign": Campaign.objects.filter(pk=campaign.pk),
        "memberships": Membership.objects.filter(campaign=campaign),
        "batches": Batch.objects.filter(campaign=campaign),
        "drafts": Draft.objects.filter(campaign=campaign),
        "references": DraftReference.objects.filter(draft__campaign=campaign),
        "reviews": Review.objects.filter(draft__campaign=campaign),
        "regions": Region.objects.filter(draft__campaign=campaign),
        "settings": ReviewSettings.objects.filter(campaign=campaign),
        "assignments": Assignment.objects.filter(campaign=campaign),
        "notifications": Notification.objects.filter(campaign=campaign),
        "focal": FocalArea.objects.filter(draft__campaign=campaign),
        "crops": CropOverride.objects.filter(draft__campaign=campaign),
        "exports": ExportJob.objects.filter(draft__campaign=campaign),
        "packs": Pack.objects.filter(campaign=campaign),
        "upscales": UpscaleJob.objects.filter(draft__campaign=campaign),
        "audit": AuditEvent.objects.filter(campaign=campaign),
    }
    return {name: list(qs.order_by("pk").values()) for name, qs in tables.items()}


HANDS = {"category": "hands", "note": "six fingers", "x": 0.1, "y": 0.2, "w": 0.25, "h": 0.5}


@dataclass
class Theirs:
    """The outsider's campaign with one object of each kind, for forged ids."""

    ids: dict[str, int]
    rows: dict[str, list[dict[str, Any]]]


def build_theirs(cast: Any) -> Theirs:
    batch = BatchFactory(campaign=cast.other_campaign, name="Their round")
    draft = kept_draft(batch, cast.outsider, size=(160, 120), name="theirs.jpg")
    review = review_submit(draft=draft, reviewer=cast.outsider, decision="keep", regions=[HANDS])
    focal_set(draft=draft, box=Box(4, 4, 40, 40), by=cast.outsider)
    assignment_create(
        draft=draft,
        assigned_by=cast.outsider,
        assignee=cast.outsider,
        kind="edit",
        instructions="Theirs",
        due_date=timezone.localdate() + timedelta(days=5),
    )
    pack_queue(campaign=cast.other_campaign, by=cast.outsider, without_missing=True)
    ids = {
        "@their-batch": batch.pk,
        "@their-region": review.regions.get().pk,
        "@their-note": Notification.objects.get(recipient=cast.outsider).pk,
    }
    return Theirs(ids=ids, rows=campaign_rows(cast.other_campaign))


@dataclass
class World:
    cast: Any
    batch: Batch
    draft: Draft  # a reviewer's regenerate with two marked regions, open rework for the creator
    rejected: Draft  # can be marked as a reference
    kept: Draft  # exports, focal rectangle, crops, upscales
    assignment: Assignment
    ids: dict[str, int]  # "@name": pk, this campaign's and the outsider's
    theirs: Theirs
    clients: dict[str, Client]

    def resolve(self, data: dict[str, Any]) -> dict[str, Any]:
        """The drawn form with ``@name`` ids replaced by the real ones."""

        def one(value: Any) -> Any:
            if isinstance(value, list):
                return [one(v) for v in value]
            return str(self.ids[value]) if value in self.ids else value

        return {name: one(value) for name, value in data.items()}

    def send(self, who: str, method: str, url: str, data: Any = None, *, json_answer=True):
        client = self.clients[who]
        client.cookies.pop("messages", None)  # only this request's messages count
        headers = {"HTTP_ACCEPT": "application/json"} if json_answer else {}
        return getattr(client, method)(url, data or {}, **headers)

    def assert_theirs_untouched(self) -> None:
        assert campaign_rows(self.cast.other_campaign) == self.theirs.rows


@pytest.fixture
def world(cast, batch) -> World:
    preset_defaults_ensure()
    draft = make_draft(batch, name="hero.png", by=cast.creator)
    review = review_submit(
        draft=draft,
        reviewer=cast.reviewer,
        decision="regenerate",
        note="hands",
        regions=[HANDS, {**HANDS, "category": "face", "x": 0.5}],
    )
    rejected = make_draft(batch, name="rejected.png")
    review_submit(draft=rejected, reviewer=cast.art_director, decision="reject", note="no")
    kept = kept_draft(batch, cast.art_director, size=(320, 240))
    assignment = assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Retouch the hand",
        due_date=timezone.localdate() + timedelta(days=2),
    )
    notes = [
        notification_send(
            recipient=cast.reviewer,
            kind=NotificationKind.DECISION,
            title=f"Note {n}",
            url="/",
            campaign=cast.campaign,
        )
        for n in range(2)
    ]
    region_ids = sorted(review.regions.values_list("pk", flat=True))
    theirs = build_theirs(cast)
    ids = {
        **{f"@{who}": getattr(cast, who).pk for who in [*ROLES, "outsider"]},
        "@region0": region_ids[0],
        "@region1": region_ids[1],
        "@note0": notes[0].pk,
        "@note1": notes[1].pk,
        "@own-batch": batch.pk,
        "@next-batch": BatchFactory(campaign=cast.campaign, name="Round 2").pk,
        **theirs.ids,
    }
    return World(
        cast=cast,
        batch=batch,
        draft=draft,
        rejected=rejected,
        kept=kept,
        assignment=assignment,
        ids=ids,
        theirs=theirs,
        clients={who: cast.client(who) for who in [*ROLES, "outsider"]},
    )


def flashed(response: Any, level: int) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level == level]


def assert_local_redirect(response: Any) -> None:
    assert response.status_code == 302
    assert url_has_allowed_host_and_scheme(response.url, {"testserver"}), response.url


def _upload(kind: str) -> Any:
    if kind == "png":
        return SimpleUploadedFile("ref.png", png_bytes(color=(1, 2, 3)), "image/png")
    if kind == "junk":
        return SimpleUploadedFile("ref.png", b"\x89PNG\r\n\x1a\n not really", "image/png")
    return SimpleUploadedFile("\u202egnp.exe.png", b"", "image/png")


FILES = choice("png", "junk", "empty").map(_upload)


# --- reviews ---------------------------------------------------------------------------------

COORD = st.floats(0, 0.7).map(lambda v: round(v, 3))
SIZE = st.floats(0.1, 0.3).map(lambda v: round(v, 3))
GOOD_REGION = st.fixed_dictionaries(
    {"category": choice(*RegionCategory.values), "x": COORD, "y": COORD, "w": SIZE, "h": SIZE},
    optional={"note": clean_text(1000)},
)
BAD_REGION = st.fixed_dictionaries(
    {},
    optional={
        "category": st.one_of(choice(*RegionCategory.values), JSON_LEAF),
        "note": st.one_of(JSON_LEAF, choice("x" * 1001, "a\x00b", "\ud800")),
        **{key: st.one_of(COORD, st.floats(-3, 3), JSON_LEAF) for key in "xywh"},
    },
)
# Each of these once answered with a 500 (or a database error on PostgreSQL).
NASTY_REGIONS = [
    "[" * 5000 + "]" * 5000,  # RecursionError in the JSON parser
    json.dumps([{**HANDS, "x": 10**400}]),  # an integer no float can hold: OverflowError
    json.dumps([{**HANDS, "note": "\ud800"}]),  # a lone surrogate: no UTF-8 to store it in
    json.dumps([{**HANDS, "note": "a\x00b"}]),  # NUL: PostgreSQL refuses it in text
]
REGIONS_GOOD = st.lists(GOOD_REGION, max_size=3).map(json.dumps)
REGIONS_BAD = st.one_of(
    choice(
        *NASTY_REGIONS,
        json.dumps([HANDS] * 51),
        json.dumps({"regions": [HANDS]}),
        json.dumps([{**HANDS, "w": "NaN"}]),
        "[" + "0," * 400_000 + "0]",  # gigantic, still under the request size limit
        json.dumps([{**HANDS, "note": "x" * 3_000_000}]),  # over it
    ),
    st.lists(st.one_of(GOOD_REGION, BAD_REGION), min_size=1, max_size=4).map(json.dumps),
    JSON_ANY.map(json.dumps),
    HOSTILE,
)


def _review_answer(world: World, response: Any, drawn: Drawn, json_answer: bool) -> bool:
    """Whether the decision was saved, after checking the answer says so clearly."""
    size = sum(len(str(v)) for v in drawn.data.values())
    if size > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        assert response.status_code == 400  # Django's own answer to an oversized body
        return False
    if not json_answer:
        assert response.status_code == 302
        assert response.url == reverse("drafts:detail", args=[world.draft.pk])
        return not flashed(response, ERROR)
    assert response.status_code in (200, 400), response.content[:300]
    body = response.json()
    assert body["ok"] is (response.status_code == 200)
    assert body["ok"] or body["error"]
    return bool(body["ok"])


def _post_decision(world: World, who: str, drawn: Drawn, json_answer: bool) -> None:
    draft = world.draft
    with rolled_back():
        before = set(Review.objects.filter(draft=draft).values_list("pk", flat=True))
        url = reverse("reviews:create", args=[draft.pk])
        response = world.send(who, "post", url, drawn.data, json_answer=json_answer)
        saved = _review_answer(world, response, drawn, json_answer)
        new = Review.objects.filter(draft=draft).exclude(pk__in=before)
        assert new.count() == int(saved)
        if drawn.valid:
            assert saved, response.content[:300]
        for review in new:
            assert review.decision == drawn.last("decision")
            for region in review.regions.all():
                assert region.category in RegionCategory.values
                assert 0 <= region.x < 1 and 0 <= region.y < 1
                assert region.x + region.w <= 1 + 1e-9 and region.y + region.h <= 1 + 1e-9
                assert region.w * draft.width >= 1 and region.h * draft.height >= 1
                assert len(region.note) <= 1000
                assert not re.search(r"[\x00\ud800-\udfff]", region.note)
        world.assert_theirs_untouched()


def _regions_example(regions: str) -> Callable[[Any], Any]:
    drawn = Drawn({"decision": "reject", "note": "no", "regions": regions})
    return example(drawn=drawn, who="reviewer", json_answer=True)


@fuzz(40)
@given(
    drawn=st.builds(
        lambda decision, regions: Drawn(
            {"decision": decision, "note": "Bottle, not can", "regions": regions[0]},
            valid=regions[1],
        ),
        choice("keep", "regenerate", "reject"),
        st.one_of(REGIONS_GOOD.map(lambda r: (r, True)), REGIONS_BAD.map(lambda r: (r, False))),
    ),
    who=choice("reviewer", "art_director"),
    json_answer=st.booleans(),
)
@_regions_example(NASTY_REGIONS[0])
@_regions_example(NASTY_REGIONS[1])
@_regions_example(NASTY_REGIONS[2])
@_regions_example(NASTY_REGIONS[3])
def test_decisions_refuse_hostile_marked_regions(world, drawn, who, json_answer):
    _post_decision(world, who, drawn, json_answer)


CHECKLIST = {
    **{
        f"{key}_rating": Spec(choice("", *Rating.values), required=False)
        for key in Criterion.values
    },
    **{f"{key}_note": Spec(clean_text(4000), required=False) for key in Criterion.values},
}


@fuzz(40)
@given(
    drawn=form(
        decision=Spec(choice("keep", "regenerate", "reject")),
        note=Spec(clean_text(4000)),
        **CHECKLIST,
    ),
    who=choice("reviewer", "art_director"),
    json_answer=st.booleans(),
)
def test_decisions_refuse_hostile_notes_and_checklists(world, drawn, who, json_answer):
    _post_decision(world, who, drawn, json_answer)


@fuzz(30)
@given(drawn=form(**CHECKLIST))
def test_the_decision_guide_answers_a_hostile_checklist_with_a_400(world, drawn):
    ratings_ok = all(
        str(drawn.last(f"{key}_rating")) in ("", *Rating.values) for key in Criterion.values
    )
    notes_ok = all(len(str(drawn.last(f"{key}_note")).strip()) <= 4000 for key in Criterion.values)
    with rolled_back():
        url = reverse("reviews:suggest", args=[world.draft.pk])
        response = world.send("reviewer", "post", url, drawn.data)
        if ratings_ok and notes_ok:
            assert response.status_code == 200, response.content[:300]
            assert response.json()["decision"] in ("keep", "regenerate", "reject", "")
        else:
            assert response.status_code == 400 and response.json()["error"]


@fuzz(25)
@given(
    drawn=form(action=Spec(choice("rule")), sign_off=Spec(choice(*SignOffRule.values))),
    reference=st.one_of(st.none(), choice("png", "junk", "empty")),
)
def test_sign_off_settings_refuse_hostile_rules_and_files(world, drawn, reference):
    campaign = world.cast.campaign
    data = dict(drawn.data)
    if reference is not None:
        data.update(action="reference", file=_upload(reference))
    with rolled_back():
        before = list(ReviewSettings.objects.filter(campaign=campaign).values())
        url = reverse("reviews:settings", args=[campaign.pk])
        response = world.send("art_director", "post", url, data)
        after = ReviewSettings.objects.filter(campaign=campaign).first()
        if reference is not None:
            expected_ok = reference == "png"
        else:
            expected_ok = drawn.last("action") != "reference" and (
                drawn.last("sign_off") in SignOffRule.values
            )
        if expected_ok:
            assert_local_redirect(response)
            assert after is not None
            if reference is None:
                assert after.sign_off == drawn.last("sign_off")
            else:
                assert after.product_reference_key
        else:
            assert response.status_code == 400
            assert list(ReviewSettings.objects.filter(campaign=campaign).values()) == before
        world.assert_theirs_untouched()


# --- rework ----------------------------------------------------------------------------------


def _due(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


ASSIGNMENT = form(
    kind=Spec(choice("edit", "regenerate")),
    assignee=Spec(
        choice("@creator", "@art_director"),
        st.one_of(choice("@reviewer", "@producer", "@outsider"), BAD_ID),
    ),
    instructions=Spec(clean_text(4000)),
    due_date=Spec(
        st.integers(0, DUE_WITHIN_DAYS).map(_due),
        st.one_of(
            choice(_due(-1), _due(DUE_WITHIN_DAYS + 1), "9999-12-31", "0001-01-01", "2030-02-30"),
            choice("99999-01-01", "+2030-01-01"),
            choice("2030-01-01T00:00", "2030-1-1", "9" * 30),
            HOSTILE,
        ),
    ),
    regions=Spec(
        st.lists(choice("@region0", "@region1"), unique=True, max_size=2),
        st.lists(st.one_of(choice("@region0", "@their-region"), BAD_ID), min_size=1, max_size=3),
        required=False,
    ),
)


def _assignment(**changes: Any) -> Drawn:
    base = {"kind": "edit", "assignee": "@creator", "instructions": "x", "due_date": _due(3)}
    return Drawn({**base, **changes})


@fuzz(50)
@given(drawn=ASSIGNMENT)
@example(drawn=_assignment(regions=["9" * 30]))  # OverflowError from ``pk__in``
@example(drawn=_assignment(regions=["@their-region"]))
@example(drawn=_assignment(assignee="@outsider"))
@example(drawn=_assignment(due_date="9999-12-31"))
def test_rework_assignment_refuses_hostile_due_dates_assignees_and_regions(world, drawn):
    cast, draft = world.cast, world.draft
    with rolled_back():
        before = set(Assignment.objects.values_list("pk", flat=True))
        url = reverse("rework:assign", args=[draft.pk])
        response = world.send("art_director", "post", url, world.resolve(drawn.data))
        new = list(Assignment.objects.exclude(pk__in=before))
        if response.status_code == 302:
            assert response.url == reverse("drafts:detail", args=[draft.pk])
            (assignment,) = new
            assert assignment.assignee in (cast.creator, cast.art_director)
            assert 0 <= (assignment.due_date - timezone.localdate()).days <= DUE_WITHIN_DAYS
            assert assignment.instructions.strip() and len(assignment.instructions) <= 4000
            assert {r.draft_id for r in assignment.regions.all()} <= {draft.pk}
        else:
            assert response.status_code == 400, response.status_code
            assert not new
            assert not drawn.valid, response.content[:300]
        world.assert_theirs_untouched()


@fuzz(30)
@given(
    drawn=form(
        action=Spec(choice("mark")),
        note=Spec(st.one_of(st.just(""), clean_text(500)), required=False),
        batch=Spec(
            choice("", "@next-batch"), st.one_of(choice("@their-batch", "@own-batch"), BAD_ID)
        ),
    )
)
@example(drawn=Drawn({"action": "mark", "batch": "9" * 30}))
@example(drawn=Drawn({"action": "mark", "batch": "@their-batch"}))
def test_marking_a_reference_never_attaches_another_campaigns_batch(world, drawn):
    draft = world.rejected
    with rolled_back():
        url = reverse("rework:reference", args=[draft.pk])
        data = world.resolve(drawn.data)
        response = world.send("reviewer", "post", url, data, json_answer=False)
        assert response.status_code == 302
        assert response.url == reverse("drafts:detail", args=[draft.pk])
        draft.refresh_from_db()
        errors, done = flashed(response, ERROR), flashed(response, SUCCESS)
        assert bool(errors) != bool(done), (errors, done)
        if draft.is_reference:
            assert draft.reference_batch_id in (None, world.ids["@next-batch"])
            assert len(draft.reference_note) <= 500 and "\x00" not in draft.reference_note
        if drawn.valid:
            assert draft.is_reference and done, errors
        world.assert_theirs_untouched()


@fuzz(20)
@given(
    drawn=form(
        file=Spec(st.integers(0, 255).map(lambda c: ("png", c)), choice(("junk", 0), ("", 0))),
        note=Spec(clean_text(4000), required=False),
    )
)
def test_submitting_rework_refuses_hostile_files_and_notes(world, drawn):
    data = dict(drawn.data)
    for kind, colour in _as_list(data.pop("file", [])):
        if kind == "png":
            upload = png_bytes(size=(48, 32), color=(colour, 201, 17))
            data.setdefault("file", []).append(SimpleUploadedFile("new.png", upload))
        elif kind == "junk":
            data.setdefault("file", []).append(SimpleUploadedFile("new.png", b"GIF89a\x00"))
    with rolled_back():
        url = reverse("rework:submit", args=[world.assignment.pk])
        response = world.send("creator", "post", url, data)
        assert response.status_code in (200, 400, 422), response.status_code
        body = response.json()
        assert body["ok"] is (response.status_code == 200)
        world.assignment.refresh_from_db()
        assert (world.assignment.status == AssignmentStatus.OPEN) is (not body["ok"])
        if drawn.valid:
            assert body["ok"], body
        world.assert_theirs_untouched()


def _as_pk(value: Any) -> int | None:
    """A posted id the way Django's ``pk=`` lookup reads it (``int()``, which takes " 1 ")."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _well_formed_id(value: Any) -> bool:
    return bool(re.fullmatch(r"[0-9]{1,19}", str(value))) and 0 < int(value) < 2**63


@fuzz(40)
@given(
    drawn=form(
        id=Spec(
            st.lists(choice("@note0", "@note1", "@their-note"), max_size=3),
            st.lists(st.one_of(choice("@note0"), BAD_ID), min_size=1, max_size=3),
            required=False,
        ),
        next=Spec(choice("/rework/", "/"), required=False),
    ),
    json_answer=st.booleans(),
)
@example(drawn=Drawn({"id": ["²"]}), json_answer=True)  # "²".isdigit(), but int("²") fails
@example(drawn=Drawn({"id": ["9" * 30]}), json_answer=True)  # OverflowError from ``pk__in``
@example(drawn=Drawn({"id": ["9" * 5000]}), json_answer=True)  # int() refuses 4300+ digits
@example(drawn=Drawn({"id": ["abc"]}), json_answer=True)  # once dropped: marked all read
@example(drawn=Drawn({"next": "é"}), json_answer=False)  # NoReverseMatch in redirect()
@example(drawn=Drawn({"next": "rework:inbox"}), json_answer=False)
def test_marking_notifications_read_refuses_malformed_ids_and_skips_others(
    world, drawn, json_answer
):
    own = {world.ids["@note0"], world.ids["@note1"]}
    data = world.resolve(drawn.data)
    ids = _as_list(data.get("id", []))
    mine = Notification.objects.filter(recipient=world.cast.reviewer)
    with rolled_back():
        url = reverse("rework:notifications-read")
        response = world.send("reviewer", "post", url, data, json_answer=json_answer)
        read = set(mine.filter(read_at__isnull=False).values_list("pk", flat=True))
        if all(_well_formed_id(v) for v in ids):
            if json_answer:
                assert response.status_code == 200 and response.json()["ok"]
            else:
                assert_local_redirect(response)
                assert response.url.startswith("/")
            assert read == ({int(v) for v in ids} & own if ids else own)
        else:
            assert response.status_code == 400
            assert not read
        world.assert_theirs_untouched()


# --- exports ---------------------------------------------------------------------------------

BOX = {
    "x": Spec(COORD.map(str), NUMBER_TEXT),
    "y": Spec(COORD.map(str), NUMBER_TEXT),
    "w": Spec(SIZE.map(str), NUMBER_TEXT),
    "h": Spec(SIZE.map(str), NUMBER_TEXT),
}
HUGE_BOX = Drawn({"x": "1e308", "y": "-1e308", "w": str(10**400), "h": "nan"})


@fuzz(40)
@given(drawn=form(**BOX), json_answer=st.booleans())
@example(drawn=HUGE_BOX, json_answer=True)
def test_a_hostile_focal_box_is_refused_and_a_good_one_stays_inside_the_picture(
    world, drawn, json_answer
):
    kept = world.kept
    with rolled_back():
        before = list(FocalArea.objects.filter(draft=kept).values())
        url = reverse("exports:focal", args=[kept.pk])
        response = world.send("producer", "post", url, drawn.data, json_answer=json_answer)
        if json_answer:
            assert response.status_code in (200, 400), response.content[:300]
            saved = response.status_code == 200
        else:
            assert response.status_code == 302
            assert response.url == reverse("exports:sheet", args=[kept.pk])
            # Saved says so as a success, or as a warning naming crops that still cut it.
            saved = bool(flashed(response, SUCCESS) or flashed(response, WARNING))
            assert saved != bool(flashed(response, ERROR))
        if saved:
            focal = FocalArea.objects.get(draft=kept)
            assert focal.source == "person"
            assert focal.x >= 0 and focal.y >= 0 and focal.width >= 2 and focal.height >= 2
            assert focal.x + focal.width <= kept.width and focal.y + focal.height <= kept.height
        else:
            assert list(FocalArea.objects.filter(draft=kept).values()) == before
        if drawn.valid:
            assert saved
        world.assert_theirs_untouched()


@fuzz(40)
@given(drawn=form(**BOX), slug=choice("square", "vertical", "hero", "no-such-preset"))
@example(drawn=HUGE_BOX, slug="square")
def test_a_hostile_crop_override_is_refused_and_a_good_one_keeps_the_aspect(world, drawn, slug):
    kept = world.kept
    with rolled_back():
        before = list(CropOverride.objects.filter(draft=kept).values())
        url = reverse("exports:crop", args=[kept.pk, slug])
        json_answer = len(drawn.data) % 2 == 0  # both kinds of answer, without another draw
        response = world.send("producer", "post", url, drawn.data, json_answer=json_answer)
        rows = CropOverride.objects.filter(draft=kept)
        if slug == "no-such-preset":
            assert response.status_code == 404
        elif json_answer and response.status_code == 400:
            assert response.json()["error"]
            assert list(rows.values()) == before
        else:
            assert response.status_code == 302
            saved = response.url == reverse("exports:sheet", args=[kept.pk])
            assert saved or response.url == url
            if not saved:
                assert flashed(response, ERROR) and list(rows.values()) == before
            else:
                crop = rows.get(preset__slug=slug)
                assert crop.x >= 0 and crop.y >= 0 and crop.width >= 1 and crop.height >= 1
                assert crop.x + crop.width <= kept.width
                assert crop.y + crop.height <= kept.height
                wanted = crop.preset.width / crop.preset.height
                assert abs(crop.width - crop.height * wanted) <= max(2, 0.02 * crop.width)
        if drawn.valid and slug != "no-such-preset":
            assert response.status_code == 302 and response.url.endswith("/channels/")
        world.assert_theirs_untouched()


@fuzz(25)
@given(drawn=form(kind=Spec(choice(*PackKind.values), required=False)))
@example(drawn=Drawn({"kind": "\x00"}))
def test_pack_creation_refuses_an_unknown_kind(world, drawn):
    campaign = world.cast.campaign
    with rolled_back():
        before = set(Pack.objects.values_list("pk", flat=True))
        url = reverse("exports:pack-create", args=[campaign.pk])
        response = world.send("producer", "post", url, drawn.data)
        new = list(Pack.objects.exclude(pk__in=before))
        if response.status_code == 409:
            # A zip of drafts too small for some channels: the checklist, nothing queued.
            assert drawn.last("kind", PackKind.ZIP) == PackKind.ZIP
            assert response.json()["checklist"] and not new
        elif drawn.last("kind", PackKind.ZIP) in PackKind.values:
            assert response.status_code == 200, response.content[:300]
            (pack,) = new
            assert pack.pk == response.json()["pack_id"] and pack.campaign == campaign
            assert pack.kind == drawn.last("kind", PackKind.ZIP)
        else:
            assert response.status_code == 400 and response.json()["error"]
            assert not new
        world.assert_theirs_untouched()


@fuzz(20)
@given(drawn=form(next=Spec(choice("/", "/rework/", "/drafts/1/channels/?a=b"), required=False)))
def test_exporting_never_redirects_off_site_whatever_next_says(world, drawn):
    with rolled_back():
        url = reverse("exports:export-draft", args=[world.kept.pk])
        response = world.send("producer", "post", url, drawn.data, json_answer=False)
        assert_local_redirect(response)
        assert flashed(response, SUCCESS)
        assert ExportJob.objects.filter(draft=world.kept).count() == 1
        if drawn.valid:
            sheet = reverse("exports:sheet", args=[world.kept.pk])
            assert response.url == drawn.last("next", sheet)
        world.assert_theirs_untouched()


@fuzz(15)
@given(fields=st.deferred(lambda: HOSTILE_POST), json_answer=st.booleans())
def test_starting_the_next_batch_from_a_record_ignores_hostile_fields(world, fields, json_answer):
    campaign = world.cast.campaign
    with rolled_back():
        before = set(Batch.objects.values_list("pk", flat=True))
        url = reverse("exports:next-batch", args=[world.kept.pk])
        response = world.send("creator", "post", url, fields, json_answer=json_answer)
        (batch,) = Batch.objects.exclude(pk__in=before)
        assert batch.campaign == campaign and batch.source == "record"
        assert batch.name == f"Next from {world.kept.original_name}"
        if json_answer:
            assert response.status_code == 200 and response.json()["batch_id"] == batch.pk
        else:
            assert_local_redirect(response)
            assert response.url.endswith(f"?batch={batch.pk}")
        world.assert_theirs_untouched()


# --- upscales --------------------------------------------------------------------------------

UPSCALE = form(
    model=Spec(
        choice("classical"),
        st.one_of(st.deferred(lambda: choice(*(o.name for o in model_options()))), HOSTILE),
    ),
    target=Spec(choice("2", "3", "4"), st.one_of(choice("custom", "fit"), HOSTILE)),
    custom_scale=Spec(st.floats(1.01, 8).map(lambda v: f"{v:.3f}"), NUMBER_TEXT, required=False),
    then_export=Spec(choice("on", "", "false"), required=False),
)


@fuzz(30)
@given(drawn=UPSCALE, batch_wide=st.booleans())
@example(
    drawn=Drawn({"model": "classical", "target": "custom", "custom_scale": "nan"}), batch_wide=False
)
@example(
    drawn=Drawn({"model": "classical", "target": "custom", "custom_scale": "1e400"}),
    batch_wide=True,
)
def test_the_upscale_form_refuses_hostile_models_and_scales(world, drawn, batch_wide):
    with rolled_back():
        before = set(UpscaleJob.objects.values_list("pk", flat=True))
        if batch_wide:
            url = reverse("upscales:batch-create", args=[world.batch.pk])
        else:
            url = reverse("upscales:create", args=[world.kept.pk])
        response = world.send("art_director", "post", url, drawn.data)
        assert response.status_code in (200, 400, 422), response.content[:300]
        body = response.json()
        assert body["ok"] is (response.status_code == 200) and body["message"]
        new = list(UpscaleJob.objects.exclude(pk__in=before))
        if response.status_code != 200:
            assert not new
        for job in new:
            assert job.draft == world.kept and 1 < job.scale <= 8
        if drawn.valid:
            assert response.status_code == 200 and len(new) == 1, body
        world.assert_theirs_untouched()


# --- drafts ----------------------------------------------------------------------------------


@fuzz(30)
@given(
    drawn=form(
        batch=Spec(
            choice("", "@next-batch"), st.one_of(choice("@their-batch"), BAD_ID), required=False
        ),
        new_batch_name=Spec(clean_text(200), required=False),
    ),
    page=st.booleans(),  # the upload page without JavaScript, or the JSON endpoint
)
@example(drawn=Drawn({"batch": "9" * 30}), page=True)
@example(drawn=Drawn({"batch": "@their-batch"}), page=False)
def test_batch_choices_refuse_other_campaigns_batches_and_hostile_names(world, drawn, page):
    campaign = world.cast.campaign
    data = world.resolve(drawn.data)
    with rolled_back():
        before = set(Batch.objects.values_list("pk", flat=True))
        if page:
            url = reverse("drafts:upload", args=[campaign.pk])
            response = world.send("creator", "post", url, data, json_answer=False)
        else:
            url = reverse("drafts:batch-create", args=[campaign.pk])
            response = world.send("creator", "post", url, data)
        own = {world.ids["@own-batch"], world.ids["@next-batch"]}
        name = str(drawn.last("new_batch_name"))
        chosen = _as_list(data.get("batch", ""))[-1]
        name_ok = "\x00" not in name and len(name.strip()) <= 200
        expected_ok = (chosen == "" or _as_pk(chosen) in own) and name_ok
        assert response.status_code == (200 if expected_ok else 400), response.status_code
        new = list(Batch.objects.exclude(pk__in=before))
        if response.status_code == 400:
            assert not new
        for batch in new:
            assert batch.campaign == campaign
            assert 0 < len(batch.name) <= 200 and "\x00" not in batch.name
        if not page and response.status_code == 200:
            assert Batch.objects.get(pk=response.json()["batch_id"]).campaign == campaign
        if drawn.valid:
            assert response.status_code == 200
        world.assert_theirs_untouched()


@fuzz(25)
@given(
    drawn=form(
        url=Spec(
            choice(
                "https://a.example/ref.png",
                "http://例え.jp/パス?q=🙂",
                "https://a.example/" + "a" * 900,
            ),
            st.one_of(choice("https://", "ftp:/x", "https://a.example/" + "a" * 1000), HOSTILE),
        ),
    ),
    upload=st.one_of(st.none(), FILES),
)
def test_reference_links_refuse_hostile_urls(world, drawn, upload):
    draft = world.draft
    data = drawn.data if upload is None else {**drawn.data, "file": upload}
    with rolled_back():
        before = set(DraftReference.objects.values_list("pk", flat=True))
        url = reverse("drafts:reference-add", args=[draft.pk])
        response = world.send("creator", "post", url, data, json_answer=False)
        assert response.status_code == 302
        assert response.url == reverse("drafts:detail", args=[draft.pk])
        new = list(DraftReference.objects.exclude(pk__in=before))
        assert len(new) == int(bool(flashed(response, SUCCESS)))
        assert bool(new) != bool(flashed(response, ERROR))
        for ref in new:
            assert ref.draft == draft
            if ref.url:
                assert re.match(r"(https?|ftps?)://", ref.url) and len(ref.url) <= 1000
                assert not re.search(r"[\x00\s]", ref.url)
        if drawn.valid and upload is None:
            assert new
        world.assert_theirs_untouched()


# --- every URL: hostile query strings and form fields ----------------------------------------

QUERY_KEYS = ["page", "decision", "check", "sort", "fragment", "a", "b", "mode", "download"]
QUERY_KEYS += ["batch", "next", "v", "id", "q", "zoom"]
QUERY_VALUES = st.one_of(
    choice("all", "keep", "undecided", "fail", "pending", "problems", "softness", "grid"),
    choice(
        "list",
        "product",
        "side",
        "wipe",
        "onion",
        "100",
        "d1",
        "r1",
        "2",
        "-1",
        "0",
        "1.5",
        "9" * 30,
    ),
    HOSTILE,
)
HOSTILE_QUERY = st.dictionaries(
    st.one_of(choice(*QUERY_KEYS), FORM_TEXT.filter(bool)),
    st.one_of(QUERY_VALUES, st.lists(QUERY_VALUES, min_size=2, max_size=3)),
    max_size=4,
)
POST_KEYS = ["decision", "note", "regions", "kind", "assignee", "due_date", "instructions"]
POST_KEYS += ["action", "batch", "new_batch_name", "url", "x", "y", "w", "h", "model", "target"]
POST_KEYS += ["custom_scale", "then_export", "sign_off", "id", "next", "file", "files"]
HOSTILE_POST = st.dictionaries(
    st.one_of(choice(*POST_KEYS), FORM_TEXT.filter(bool)),
    st.one_of(NUMBER_TEXT, st.lists(HOSTILE, min_size=2, max_size=3)),
    max_size=5,
)


@pytest.fixture
def everything(cast, batch):
    """One object of every kind (the permission matrix's), and the outsider's campaign."""
    objects = matrix_objects(cast, batch)
    # The art director acts for every role: as the campaign's creator, also for its owner.
    Campaign.objects.filter(pk=cast.campaign.pk).update(created_by=cast.art_director)
    theirs = build_theirs(cast)
    clients = {who: cast.client(who) for who in ("art_director", "outsider")}
    yield objects, theirs, clients
    cache.clear()  # the grid caches its filter counts under ids the rollback hands out again


def _route_url(name: str, objects: dict) -> str:
    return reverse(name, args=ROUTES[name].args(objects))


@fuzz(70)
@given(
    name=choice(*sorted(n for n, r in ROUTES.items() if r.method == "get")),
    query=HOSTILE_QUERY,
    who=choice("art_director", "art_director", "outsider"),
)
def test_every_page_ignores_or_refuses_hostile_query_parameters(everything, name, query, who):
    objects, theirs, clients = everything
    with rolled_back():
        response = clients[who].get(_route_url(name, objects), query)
        if response.streaming:
            response.getvalue()  # read to the end, which closes the file the download holds
        if ROUTES[name].staff_only:
            assert response.status_code == 403  # creating campaigns is staff's
        elif who == "outsider" and ROUTES[name].need is not None:
            assert response.status_code == 404
        else:
            assert response.status_code == 200, (name, response.status_code)
        assert campaign_rows(Campaign.objects.get(pk=theirs.rows["campaign"][0]["id"])) == (
            theirs.rows
        )


@fuzz(70)
@given(
    name=choice(*sorted(n for n, r in ROUTES.items() if r.method == "post")),
    fields=HOSTILE_POST,
    who=choice("art_director", "art_director", "outsider"),
    json_answer=st.booleans(),
)
def test_every_post_answers_hostile_fields_without_a_server_error(
    everything, name, fields, who, json_answer
):
    objects, theirs, clients = everything
    data = {**(ROUTES[name].data or {}), **fields}
    headers = {"HTTP_ACCEPT": "application/json"} if json_answer else {}
    with rolled_back():
        response = clients[who].post(_route_url(name, objects), data, **headers)
        if who == "outsider" and ROUTES[name].need is not None:
            assert response.status_code == 404
        else:
            # 409: a pack's checklist (or a stale view) asks the person to choose again.
            assert response.status_code in (200, 201, 202, 302, 400, 409, 413, 422), (
                name,
                response.status_code,
            )
        if response.status_code == 302:
            assert url_has_allowed_host_and_scheme(response.url, {"testserver"}), response.url
        if who != "outsider" or ROUTES[name].need is not None:  # not their own notifications
            campaign = Campaign.objects.get(pk=theirs.rows["campaign"][0]["id"])
            assert campaign_rows(campaign) == theirs.rows


class _AnyObject(dict):
    """Stands in for the matrix objects to learn each route's arguments before the fixture."""

    def __missing__(self, key: str) -> Any:
        return SimpleNamespace(pk=1, draft_id=1)


ROUTES_WITH_ARGS = sorted(n for n, r in ROUTES.items() if r.args(_AnyObject()))
BAD_PK = choice(0, 2**31, 2**63 - 1, 2**63, 10**30, 10**400)
BAD_SEGMENT = st.one_of(
    st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True),  # what <slug:> lets through
    HOSTILE.filter(lambda text: text and "/" not in text),  # and <str:>
)


@fuzz(40)
@given(name=choice(*ROUTES_WITH_ARGS), pk=BAD_PK, segment=BAD_SEGMENT, replace=st.booleans())
def test_every_url_answers_a_missing_or_hostile_id_with_a_404(
    everything, name, pk, segment, replace
):
    objects, _, clients = everything
    real = ROUTES[name].args(objects)
    # Either the ids name nothing, or they are real and the text part (a preset, an image
    # name, a signed pack link) is hostile.
    if any(isinstance(a, int) for a in real) and (replace or all(isinstance(a, int) for a in real)):
        args = [pk if isinstance(a, int) else a for a in real]
    else:
        args = [segment if isinstance(a, str) else a for a in real]
        if name.startswith("exports:crop"):  # a <slug:> takes fewer characters than a <str:>
            args = [re.sub(r"[^-\w]|[^\x00-\x7f]", "", str(a)) or "x" for a in args]
        presets = ChannelPreset.objects.values_list("slug", flat=True)
        assume(not {"thumb", "preview", "original", *presets} & set(map(str, args)))
    url = reverse(name, args=args)
    with rolled_back():
        response = getattr(clients["art_director"], ROUTES[name].method)(url)
        assert response.status_code == 404, (url[:120], response.status_code)


# --- logging in ------------------------------------------------------------------------------


@pytest.fixture
def clean_cache():
    yield
    cache.clear()  # the login throttle counts live there


@fuzz(25)
@given(
    drawn=form(username=Spec(HOSTILE), password=Spec(HOSTILE)),
    next_url=st.one_of(st.none(), HOSTILE),
)
def test_the_login_form_refuses_hostile_credentials(cast, clean_cache, drawn, next_url):
    cache.clear()  # each example starts with no failed attempts counted
    client = Client()
    data = drawn.data if next_url is None else {**drawn.data, "next": next_url}
    assert client.get(reverse("login"), {"next": next_url or ""}).status_code == 200
    response = client.post(reverse("login"), data)
    assert response.status_code == 200, response.status_code
    assert response.context["form"].errors
    assert SESSION_KEY not in client.session
