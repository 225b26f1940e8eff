"""The permission matrix: every URL of the app, each role, an outsider and an anonymous visitor.

Adding a URL without adding it here fails the first test, so nothing is left unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.campaigns.permissions import ROLE_CAPABILITIES, Can
from apps.checks.runs import draft_checks_run
from apps.drafts.models import DraftReference
from apps.drafts.runs import draft_preview_run
from tests.conftest import ROLES
from tests.factories import BatchFactory, make_draft


@dataclass(frozen=True)
class Route:
    method: str
    need: Can | None  # None: any logged-in person (the page lists only their own campaigns)
    args: Callable[[dict], list[int]]
    data: dict | None = None
    staff_only: bool = False  # not tied to one campaign: every non-staff person gets 403


ROUTES: dict[str, Route] = {
    "campaigns:list": Route("get", None, lambda o: []),
    "campaigns:detail": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "campaigns:activity": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    # No role owns a campaign: its creator and staff do (tests/campaigns/test_team.py).
    "campaigns:new": Route("get", Can.OWN, lambda o: [], staff_only=True),
    "campaigns:edit": Route("get", Can.OWN, lambda o: [o["campaign"].pk]),
    "campaigns:archive": Route("post", Can.OWN, lambda o: [o["campaign"].pk], {}),
    "campaigns:restore": Route("post", Can.OWN, lambda o: [o["campaign"].pk], {}),
    "campaigns:people": Route("get", Can.OWN, lambda o: [o["campaign"].pk]),
    "campaigns:invite": Route(
        "post", Can.OWN, lambda o: [o["campaign"].pk], {"email": "a@b.example", "role": "creator"}
    ),
    "campaigns:member-role": Route(
        "post",
        Can.OWN,
        lambda o: [o["campaign"].pk, o["membership"].pk],
        {"role": "creator"},
    ),
    "campaigns:member-remove": Route(
        "post", Can.OWN, lambda o: [o["campaign"].pk, o["membership"].pk], {}
    ),
    "campaigns:invitation-withdraw": Route(
        "post", Can.OWN, lambda o: [o["campaign"].pk, o["invitation"].pk], {}
    ),
    "drafts:upload": Route("get", Can.UPLOAD, lambda o: [o["campaign"].pk]),
    "drafts:batch-create": Route(
        "post", Can.UPLOAD, lambda o: [o["campaign"].pk], {"new_batch_name": "x"}
    ),
    "drafts:batch": Route("get", Can.VIEW, lambda o: [o["batch"].pk]),
    "drafts:upload-file": Route("post", Can.UPLOAD, lambda o: [o["batch"].pk], {}),
    "drafts:carried": Route("get", Can.VIEW, lambda o: [o["carried_batch"].pk, "comfyui"]),
    "drafts:detail": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "drafts:status": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "drafts:image": Route("get", Can.VIEW, lambda o: [o["draft"].pk, "thumb"]),
    "drafts:download": Route("get", Can.DOWNLOAD_ORIGINAL, lambda o: [o["draft"].pk]),
    "drafts:reference-add": Route(
        "post", Can.UPLOAD, lambda o: [o["draft"].pk], {"url": "https://a.example/"}
    ),
    "drafts:reference-file": Route("get", Can.VIEW, lambda o: [o["reference"].pk]),
    "drafts:search": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "drafts:saved-search-create": Route(
        "post", Can.VIEW, lambda o: [o["campaign"].pk], {"name": "x", "q": "can"}
    ),
    # Deletes only the poster's own saved search of that id (tests/drafts/test_grid_search.py).
    "drafts:saved-search-delete": Route(
        "post", Can.VIEW, lambda o: [o["campaign"].pk], {"id": "1"}
    ),
    "drafts:stack": Route("get", Can.VIEW, lambda o: [o["batch"].pk, o["stack_key"]]),
    "comments:draft": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "comments:resolve": Route("post", Can.VIEW, lambda o: [o["comment"].pk]),
    "comments:reopen": Route("post", Can.VIEW, lambda o: [o["comment"].pk]),
    "reviews:create": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {"decision": "keep"}),
    "reviews:suggest": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {}),
    "reviews:decision": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "reviews:sign-off": Route("post", Can.SIGN_OFF, lambda o: [o["draft"].pk], {}),
    "reviews:regions": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "reviews:settings": Route("get", Can.SIGN_OFF, lambda o: [o["campaign"].pk]),
    "reviews:product-reference": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "reviews:sign-off-queue": Route("get", Can.SIGN_OFF, lambda o: [o["campaign"].pk]),
    "reviews:batch-summary": Route("get", Can.VIEW, lambda o: [o["batch"].pk]),
    "reviews:batch-decide": Route(
        "post", Can.REVIEW, lambda o: [o["batch"].pk], {"draft": "1", "decision": "keep"}
    ),
    "reviews:campaign-decide": Route(
        "post", Can.REVIEW, lambda o: [o["campaign"].pk], {"draft": "1", "decision": "keep"}
    ),
    "reviews:preferences": Route("post", None, lambda o: [], {"stay_after_decision": "1"}),
    "rework:inbox": Route("get", None, lambda o: []),
    "rework:assign": Route("get", Can.ASSIGN_REWORK, lambda o: [o["draft"].pk]),
    "rework:reference": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {"action": "mark"}),
    "rework:compare": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "rework:assignment": Route("get", Can.VIEW, lambda o: [o["assignment"].pk]),
    # Uploading needs UPLOAD and being the assignee (the creator here) or an art director.
    "rework:submit": Route("post", Can.UPLOAD, lambda o: [o["assignment"].pk], {}),
    "rework:cancel": Route("post", Can.ASSIGN_REWORK, lambda o: [o["assignment"].pk], {}),
    "rework:revision-image": Route("get", Can.VIEW, lambda o: [o["revision"].pk]),
    "rework:notifications": Route("get", None, lambda o: []),
    "rework:notifications-read": Route("post", None, lambda o: [], {}),
    "upscales:create": Route(
        "post",
        Can.UPSCALE,
        lambda o: [o["upscale"].draft_id],
        {"model": "classical", "target": "3"},
    ),
    "upscales:batch-create": Route(
        "post", Can.UPSCALE, lambda o: [o["batch"].pk], {"model": "classical", "target": "3"}
    ),
    "upscales:detail": Route("get", Can.VIEW, lambda o: [o["upscale"].pk]),
    "upscales:status": Route("get", Can.VIEW, lambda o: [o["upscale"].pk]),
    "upscales:cancel": Route("post", Can.UPSCALE, lambda o: [o["upscale"].pk], {}),
    "upscales:retry": Route("post", Can.UPSCALE, lambda o: [o["upscale"].pk], {}),
    "upscales:image": Route("get", Can.VIEW, lambda o: [o["upscale"].pk]),
    "upscales:download": Route("get", Can.DOWNLOAD_ORIGINAL, lambda o: [o["upscale"].pk]),
    "checks:panel": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "checks:rerun": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {}),
    "exports:sheet": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "exports:focal": Route(
        "post",
        Can.EXPORT,
        lambda o: [o["draft"].pk],
        {"x": "0.1", "y": "0.1", "w": ".5", "h": ".5"},
    ),
    "exports:crop": Route("get", Can.EXPORT, lambda o: [o["draft"].pk, "square"]),
    "exports:crop-reset": Route("post", Can.EXPORT, lambda o: [o["draft"].pk, "square"]),
    "exports:export-draft": Route("post", Can.EXPORT, lambda o: [o["draft"].pk]),
    "exports:export-status": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "exports:export-batch": Route("post", Can.EXPORT, lambda o: [o["batch"].pk]),
    "exports:export-campaign": Route("post", Can.EXPORT, lambda o: [o["campaign"].pk]),
    "exports:version-file": Route("get", Can.VIEW, lambda o: [o["version"].pk]),
    "exports:packs": Route("get", Can.EXPORT, lambda o: [o["campaign"].pk]),
    "exports:pack-create": Route("post", Can.EXPORT, lambda o: [o["campaign"].pk], {"kind": "zip"}),
    "exports:pack-create-draft": Route("post", Can.EXPORT, lambda o: [o["draft"].pk]),
    "exports:pack-download": Route("get", Can.EXPORT, lambda o: [o["pack"].pk]),
    "exports:pack-link": Route("get", Can.EXPORT, lambda o: [o["pack_token"]]),
    "exports:record": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "exports:record-json": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "exports:next-batch": Route("post", Can.UPLOAD, lambda o: [o["draft"].pk]),
    "sharing:links": Route("get", Can.EXPORT, lambda o: [o["campaign"].pk]),
    "sharing:create": Route(
        "post", Can.EXPORT, lambda o: [o["campaign"].pk], {"drafts": "1", "days": "7"}
    ),
    "sharing:revoke": Route("post", Can.EXPORT, lambda o: [o["share_link"].pk]),
    "api:tokens": Route("get", None, lambda o: []),
    "webhooks:page": Route("get", Can.SIGN_OFF, lambda o: [o["campaign"].pk]),
    # The REST API with the browser's session (tests/api/test_schema.py walks every operation
    # of the schema with tokens, each method of each route).
    "api:campaigns": Route("get", None, lambda o: []),
    "api:campaign": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "api:batches": Route("post", Can.UPLOAD, lambda o: [o["campaign"].pk], {"name": "x"}),
    "api:pack-create": Route("post", Can.EXPORT, lambda o: [o["campaign"].pk], {"kind": "zip"}),
    "api:drafts": Route("post", Can.UPLOAD, lambda o: [o["batch"].pk], {}),
    "api:draft": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "api:record": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "api:decide": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {"decision": "keep"}),
    "api:sign-off": Route("post", Can.SIGN_OFF, lambda o: [o["draft"].pk], {}),
    "api:upscale-create": Route(
        "post", Can.UPSCALE, lambda o: [o["upscale"].draft_id], {"model": "classical"}
    ),
    "api:exports": Route("post", Can.EXPORT, lambda o: [o["draft"].pk]),
    "api:assignments": Route("get", None, lambda o: []),
    "api:assignment-submit": Route("post", Can.UPLOAD, lambda o: [o["assignment"].pk], {}),
    "api:upscale": Route("get", Can.VIEW, lambda o: [o["upscale"].pk]),
    "api:upscale-download": Route("get", Can.DOWNLOAD_ORIGINAL, lambda o: [o["upscale"].pk]),
    "api:version-download": Route("get", Can.VIEW, lambda o: [o["version"].pk]),
    "api:pack": Route("get", Can.EXPORT, lambda o: [o["pack"].pk]),
    "api:pack-download": Route("get", Can.EXPORT, lambda o: [o["pack"].pk]),
    "api:job": Route("get", Can.VIEW, lambda o: ["upscale", o["upscale"].pk]),
}
# Reachable without logging in, each tested where it lives: an invitation link
# (tests/campaigns/test_team.py), single sign-on and password reset (tests/accounts/).
PUBLIC = {
    "login",
    "logout",
    "healthz",
    "campaigns:invitation",
    "accounts:sso-login",
    "accounts:sso-callback",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    # The API's schema and docs page describe the API, not anyone's data.
    "api:schema",
    "api:docs",
}
# Guest pages under /share/<token>/: no account, the link is the key (tested below).
GUEST_ROUTES: dict[str, Callable[[dict, int], list]] = {
    "sharing:guest": lambda o, pk: [o["share_token"]],
    "sharing:guest-draft": lambda o, pk: [o["share_token"], pk],
    "sharing:guest-image": lambda o, pk: [o["share_token"], pk, "original"],
    "sharing:guest-download": lambda o, pk: [o["share_token"], pk],
    # The link's pack, not a draft: pk plays no part (a draft outside the link cannot be named).
    "sharing:guest-pack": lambda o, pk: [o["share_token"]],
    "sharing:guest-answer": lambda o, pk: [o["share_token"], pk],
}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue  # staff only, guarded by Django's admin
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names |= _names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_url_of_the_app_is_in_the_matrix():
    assert _names(get_resolver()) - PUBLIC - set(GUEST_ROUTES) == set(ROUTES)


@pytest.fixture
def objects(cast, batch):
    return matrix_objects(cast, batch)


def matrix_objects(cast, batch) -> dict:
    """One object of every kind a URL names, in ``cast.campaign`` (tests/test_form_fuzz.py
    reuses it to send hostile input to every URL)."""
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    draft_checks_run(job_id=draft.check_job.pk)  # the checks panel renders real results
    from apps.drafts.services import reference_add_file
    from tests.images import png_bytes

    reference = reference_add_file(
        draft=draft, name="r.png", data=png_bytes(color=(3, 3, 3)), by=None
    )
    assert isinstance(reference, DraftReference)
    from apps.campaigns.services import invitation_create

    exports = _export_objects(cast, draft)
    return {
        "campaign": cast.campaign,
        "membership": cast.membership("producer"),
        "invitation": invitation_create(
            campaign=cast.campaign, email="new@b.example", role="reviewer", by=cast.art_director
        ).invitation,
        "batch": batch,
        "carried_batch": BatchFactory(
            campaign=cast.campaign, carried={"prompt": "a can", "seed": 7}
        ),
        "draft": draft,
        "reference": reference,
        # Drafts of one prompt stack; the matrix's draft has none, so this stack is that draft's
        # near-duplicate set or, checks or not, a prompt key given here.
        "stack_key": _stack_key(draft),
        "comment": _comment(cast, draft),
        **_rework_objects(cast, batch, draft),
        "upscale": _upscale_job(batch),
        **exports,
        **_share_objects(cast, draft, exports["pack"]),
    }


def _comment(cast, draft):
    from apps.comments.services import comment_post

    return comment_post(draft=draft, author=cast.reviewer, body="Is the label legible?")


def _stack_key(draft):
    from apps.drafts.models import Draft

    Draft.objects.filter(pk=draft.pk).update(prompt_key="0123456789abcdef")
    summary = getattr(draft, "check_summary", None)
    if summary is not None and summary.dup_group is not None:
        return f"d{summary.dup_group}"
    return "p0123456789abcdef"


def _share_objects(cast, draft, pack):
    """A share link (with download rights) made from ``pack``, which holds ``draft`` only."""
    from apps.sharing.services import share_link_create

    link, token = share_link_create(
        campaign=cast.campaign, by=cast.producer, title="Client", pack=pack, can_download=True
    )
    return {"share_link": link, "share_token": token}


def _export_objects(cast, draft):
    from tests.exports.builders import export_objects

    return export_objects(cast, draft)


def _upscale_job(batch):
    """A finished (classical) upscale of a kept draft, with its file in storage."""
    from apps.drafts.models import Draft
    from apps.upscales.runs import upscale_run
    from apps.upscales.services import upscale_request

    kept = make_draft(batch, name="kept.png")
    Draft.objects.filter(pk=kept.pk).update(decision="keep")
    kept.refresh_from_db()
    job, _ = upscale_request(draft=kept, by=None, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _rework_objects(cast, batch, draft):
    """A keep waiting for sign-off, an open edit assignment for the creator, an edited draft
    and the campaign's product reference image."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.drafts.services import draft_revision_add
    from apps.reviews.services import product_reference_set, review_submit
    from apps.rework.services import assignment_create
    from tests.images import png_bytes

    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    assignment = assignment_create(
        draft=draft,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Clean the label edge",
        due_date=timezone.localdate() + timedelta(days=2),
    )
    edited = make_draft(batch, name="edited.png")
    revision = draft_revision_add(
        draft=edited, uploaded_by=None, name="e.png", upload=png_bytes(color=(4, 4, 4))
    )
    product_reference_set(
        campaign=cast.campaign, by=cast.art_director, name="can.png", upload=png_bytes()
    )
    return {"assignment": assignment, "revision": revision}


def _call(client: Client, name: str, objects: dict):
    route = ROUTES[name]
    url = reverse(name, args=route.args(objects))
    if route.method == "get":
        return client.get(url)
    return client.post(url, route.data or {}, HTTP_ACCEPT="application/json")


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_each_role_gets_exactly_what_its_capabilities_allow(cast, objects, name, who):
    response = _call(cast.client(who), name, objects)
    need = ROUTES[name].need
    if ROUTES[name].staff_only:
        assert response.status_code == 403
    elif need is None:
        assert response.status_code == 200
    elif who == "outsider":
        assert response.status_code == 404, "an outsider must not learn the object exists"
    elif need in ROLE_CAPABILITIES[who]:
        # 409: past the permission check, a pack's checklist asks the person to choose.
        assert response.status_code in (200, 201, 202, 302, 400, 409, 422), response.status_code
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_log_in(client, objects, name):
    response = _call(client, name, objects)
    if response.request["PATH_INFO"].startswith("/api/"):
        assert response.status_code == 401  # scripts get an answer, not a login page
        return
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", [n for n, r in ROUTES.items() if r.method == "post"])
def test_posts_without_a_csrf_token_are_refused(cast, objects, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.art_director)
    assert _call(client, name, objects).status_code == 403


def _guest_call(client: Client, name: str, objects: dict, pk: int):
    url = reverse(name, args=GUEST_ROUTES[name](objects, pk))
    if name == "sharing:guest-answer":
        return client.post(url, {"verdict": "approved"})
    return client.get(url)


@pytest.fixture
def guest(objects) -> Client:
    client = Client()
    url = reverse("sharing:guest", args=[objects["share_token"]])
    assert client.post(url, {"name": "Ana", "email": "ana@client.example"}).status_code == 302
    return client


@pytest.mark.parametrize("name", sorted(GUEST_ROUTES))
def test_a_guest_reaches_the_links_draft_without_an_account(guest, objects, name):
    response = _guest_call(guest, name, objects, objects["draft"].pk)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert not response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "name", sorted(set(GUEST_ROUTES) - {"sharing:guest", "sharing:guest-pack"})
)
@pytest.mark.parametrize("other", ["batch_draft", "other_campaign_draft"])
def test_a_guest_cannot_reach_a_draft_outside_the_link(cast, batch, guest, objects, name, other):
    from tests.factories import BatchFactory

    target = (
        make_draft(batch, name="not-shared.png")
        if other == "batch_draft"
        else make_draft(BatchFactory(campaign=cast.other_campaign), name="elsewhere.png")
    )
    assert _guest_call(guest, name, objects, target.pk).status_code == 404


@pytest.mark.parametrize("name", sorted(set(GUEST_ROUTES) - {"sharing:guest"}))
def test_an_anonymous_visitor_is_sent_to_the_links_gate_not_to_log_in(client, objects, name):
    response = _guest_call(client, name, objects, objects["draft"].pk)
    assert response.status_code == 302
    assert response.url == reverse("sharing:guest", args=[objects["share_token"]])


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_a_guest_session_opens_no_member_url(guest, objects, name):
    response = _call(guest, name, objects)
    if response.request["PATH_INFO"].startswith("/api/"):
        # The API never redirects to a login page: it answers 401 (problem+json), no data.
        assert response.status_code == 401, response.content
    else:
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
