"""The OpenAPI schema validates, and every operation in it refuses the wrong callers: an
anonymous caller (401), an outsider (404, or an empty list), a member whose role lacks the
right (403). Never their data, never a 500."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import resolve

from apps.campaigns.permissions import ROLE_CAPABILITIES, Can
from tests.api.conftest import token_client
from tests.conftest import ROLES
from tests.test_permissions import matrix_objects

# What each operation needs; a new operation without an entry here fails the walk.
NEEDS: dict[tuple[str, str], Can | None] = {
    ("api:campaigns", "get"): None,
    ("api:campaign", "get"): Can.VIEW,
    ("api:batches", "get"): Can.VIEW,
    ("api:batches", "post"): Can.UPLOAD,
    ("api:pack-create", "post"): Can.EXPORT,
    ("api:drafts", "get"): Can.VIEW,
    ("api:drafts", "post"): Can.UPLOAD,
    ("api:draft", "get"): Can.VIEW,
    ("api:record", "get"): Can.VIEW,
    ("api:decide", "post"): Can.REVIEW,
    ("api:sign-off", "post"): Can.SIGN_OFF,
    ("api:upscale-create", "post"): Can.UPSCALE,
    ("api:exports", "get"): Can.VIEW,
    ("api:exports", "post"): Can.EXPORT,
    ("api:assignments", "get"): None,
    ("api:assignment-submit", "post"): Can.UPLOAD,
    ("api:upscale", "get"): Can.VIEW,
    ("api:upscale-download", "get"): Can.DOWNLOAD_ORIGINAL,
    ("api:version-download", "get"): Can.VIEW,
    ("api:pack", "get"): Can.EXPORT,
    ("api:pack-download", "get"): Can.EXPORT,
    ("api:job", "get"): Can.VIEW,
}

OBJECT_FOR = {
    "api:campaign": "campaign",
    "api:batches": "campaign",
    "api:pack-create": "campaign",
    "api:drafts": "batch",
    "api:draft": "draft",
    "api:record": "draft",
    "api:decide": "draft",
    "api:sign-off": "draft",
    "api:upscale-create": "draft",
    "api:exports": "draft",
    "api:assignment-submit": "assignment",
    "api:upscale": "upscale",
    "api:upscale-download": "upscale",
    "api:version-download": "version",
    "api:pack": "pack",
    "api:pack-download": "pack",
}


def schema() -> dict:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in schema()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.django_db
def test_the_schema_validates_without_warnings():
    paths = schema()["paths"]
    assert "/api/v1/batches/{id}/drafts/" in paths


def _url(path: str, objects: dict) -> tuple[str, str]:
    def fill(match: re.Match) -> str:
        return "upscale" if match.group(1) == "kind" else "{id}"

    template = re.sub(r"\{(\w+)\}", fill, path)
    name = resolve(template.replace("{id}", "1")).view_name
    if "{id}" not in template:
        return template, name
    obj = objects["upscale"] if name == "api:job" else objects[OBJECT_FOR[name]]
    return template.replace("{id}", str(obj.pk)), name


def _call(client: Client, method: str, url: str):
    return getattr(client, method)(url, {}, content_type="application/json")


ALL_OPERATIONS = operations()


@pytest.mark.parametrize(("path", "method"), ALL_OPERATIONS)
def test_every_operation_refuses_the_wrong_callers(cast, batch, path, method):
    objects = matrix_objects(cast, batch)
    url, name = _url(path, objects)
    assert (name, method) in NEEDS, f"add {name} {method} to NEEDS"
    need = NEEDS[(name, method)]

    anonymous = _call(Client(), method, url)
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"

    outsider = _call(token_client(cast.outsider), method, url)
    if need is None:
        assert outsider.status_code == 200
        assert cast.campaign.name.encode() not in outsider.content
        assert b'"campaign":' + str(cast.campaign.pk).encode() not in outsider.content
    else:
        assert outsider.status_code == 404, outsider.content
        assert outsider["Content-Type"] == "application/problem+json"

    for role in ROLES:
        response = _call(token_client(getattr(cast, role)), method, url)
        assert response.status_code < 500, (role, response.content)
        if need is not None and need not in ROLE_CAPABILITIES[role]:
            assert response.status_code == 403, (role, response.status_code)
