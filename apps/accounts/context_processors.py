from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def login_options(request: HttpRequest) -> dict[str, Any]:
    """Which ways to log in the pages offer (the login and invitation pages use them)."""
    return {
        "sso_enabled": bool(settings.OIDC_RP_CLIENT_ID),
        "sso_name": settings.OIDC_PROVIDER_NAME,
        "password_login": settings.DRAFTROOM_PASSWORD_LOGIN,
    }
