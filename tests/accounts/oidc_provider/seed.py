"""Seed the provider: ``python -m tests.accounts.oidc_provider.seed REDIRECT_URI`` creates the
Draftroom client and the directory's people (see tests/accounts/conftest.py)."""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.accounts.oidc_provider.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD, PEOPLE  # noqa: E402

if __name__ == "__main__":
    redirect_uri = sys.argv[1]
    for username, email, last_name in PEOPLE:
        User.objects.create_user(username, email=email, password=PASSWORD, last_name=last_name)
    Application.objects.create(
        name="Draftroom",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
