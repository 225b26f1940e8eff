"""The two ways to log in, each refusing when settings turn it off.

Single sign-on is mozilla-django-oidc's relying party: small, a plain authentication backend
plus two views, no models of its own; we need exactly one provider per installation, not
allauth's account and social-account machinery (its own signup, e-mail and templates), which
would stand beside our invitations rather than under them.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from apps.campaigns.selectors import has_pending_invitation
from apps.campaigns.services import invitations_accept_for_verified_email


def sso_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


class PasswordBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not settings.DRAFTROOM_PASSWORD_LOGIN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """People are matched by the e-mail their provider has verified: an account with that
    address logs in; an unknown person gets an account only when a campaign invited that
    address (or ``OIDC_OPEN_SIGNUP``), and joins every campaign that did."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every listed backend for each login; without SSO settings the
        # library's constructor would refuse, so it is skipped and this backend steps aside.
        self.UserModel = get_user_model()
        self.enabled = sso_enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not self.enabled:
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("email")) and claims.get("email_verified") is True

    def create_user(self, claims: dict[str, Any]) -> Any:
        email = str(claims["email"]).strip().lower()
        if not (settings.OIDC_OPEN_SIGNUP or has_pending_invitation(email)):
            return None  # nobody invited this address: no account, the login is refused
        return User.objects.create_user(self._free_username(claims), email=email)

    def get_or_create_user(self, access_token: str, id_token: str, payload: Any) -> Any:
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None and user.is_active:
            invitations_accept_for_verified_email(user=user, email=user.email)
        return user

    @staticmethod
    def _free_username(claims: dict[str, Any]) -> str:
        wanted = str(claims.get("preferred_username") or str(claims["email"]).split("@")[0])
        base = re.sub(r"[^\w.@+-]", "", wanted)[:140] or "person"
        name, n = base, 1
        while User.objects.filter(username__iexact=name).exists():
            n += 1
            name = f"{base}{n}"
        return name
