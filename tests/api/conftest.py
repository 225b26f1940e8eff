from __future__ import annotations

import pytest
from django.test import Client

from apps.api.services import token_create


def token_client(user, *, scope: str = "write", campaigns=()) -> Client:
    _token, secret = token_create(user=user, name="script", scope=scope, campaigns=campaigns)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def api(cast):
    """A read-write token client for each person of the cast: ``api("reviewer")``."""
    return lambda who, **kw: token_client(getattr(cast, who), **kw)
