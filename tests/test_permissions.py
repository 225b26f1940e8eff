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
from apps.drafts.models import DraftReference
from apps.drafts.services import draft_preview_run
from tests.conftest import ROLES
from tests.factories import make_draft


@dataclass(frozen=True)
class Route:
    method: str
    need: Can | None  # None: any logged-in person (the page lists only their own campaigns)
    args: Callable[[dict], list[int]]
    data: dict | None = None


ROUTES: dict[str, Route] = {
    "campaigns:list": Route("get", None, lambda o: []),
    "campaigns:detail": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "campaigns:activity": Route("get", Can.VIEW, lambda o: [o["campaign"].pk]),
    "drafts:upload": Route("get", Can.UPLOAD, lambda o: [o["campaign"].pk]),
    "drafts:batch-create": Route(
        "post", Can.UPLOAD, lambda o: [o["campaign"].pk], {"new_batch_name": "x"}
    ),
    "drafts:batch": Route("get", Can.VIEW, lambda o: [o["batch"].pk]),
    "drafts:upload-file": Route("post", Can.UPLOAD, lambda o: [o["batch"].pk], {}),
    "drafts:detail": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "drafts:status": Route("get", Can.VIEW, lambda o: [o["draft"].pk]),
    "drafts:image": Route("get", Can.VIEW, lambda o: [o["draft"].pk, "thumb"]),
    "drafts:download": Route("get", Can.DOWNLOAD_ORIGINAL, lambda o: [o["draft"].pk]),
    "drafts:reference-add": Route(
        "post", Can.UPLOAD, lambda o: [o["draft"].pk], {"url": "https://a.example/"}
    ),
    "drafts:reference-file": Route("get", Can.VIEW, lambda o: [o["reference"].pk]),
    "reviews:create": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {"decision": "keep"}),
    "reviews:suggest": Route("post", Can.REVIEW, lambda o: [o["draft"].pk], {}),
}
PUBLIC = {"login", "logout", "healthz"}


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
    assert _names(get_resolver()) - PUBLIC == set(ROUTES)


@pytest.fixture
def objects(cast, batch):
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    from apps.drafts.services import reference_add_file
    from tests.images import png_bytes

    reference = reference_add_file(
        draft=draft, name="r.png", data=png_bytes(color=(3, 3, 3)), by=None
    )
    assert isinstance(reference, DraftReference)
    return {"campaign": cast.campaign, "batch": batch, "draft": draft, "reference": reference}


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
    if need is None:
        assert response.status_code == 200
    elif who == "outsider":
        assert response.status_code == 404, "an outsider must not learn the object exists"
    elif need in ROLE_CAPABILITIES[who]:
        assert response.status_code in (200, 302, 400, 422), response.status_code
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_log_in(client, objects, name):
    response = _call(client, name, objects)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", [n for n, r in ROUTES.items() if r.method == "post"])
def test_posts_without_a_csrf_token_are_refused(cast, objects, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.art_director)
    assert _call(client, name, objects).status_code == 403
