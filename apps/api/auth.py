"""Who is calling the API and what their token lets them do.

Permissions are the web's: views call the same scoped getters with ``request.user``. A token
only narrows them: a read token makes no writes, a token limited to campaigns sees no others
(as an outsider would: 404)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from apps.api.models import ApiToken, TokenScope
from apps.api.selectors import token_for_secret
from apps.api.services import token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer drt_…``. Listed first, so anonymous callers get 401 with
    ``WWW-Authenticate: Bearer`` (DRF asks the first authenticator for that header)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send one token: Authorization: Bearer <token>.")
        token = token_for_secret(header[1].decode("latin-1"))
        if token is None:
            raise exceptions.AuthenticationFailed("This token is unknown, revoked or expired.")
        token_touch(token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScopeAllows(permissions.BasePermission):
    message = "This token is read-only: make a read-write token to change anything."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and request.method not in permissions.SAFE_METHODS:
            return token.scope == TokenScope.WRITE
        return True


def token_campaign_ids(request: Request) -> set[int] | None:
    """The campaigns the calling token is limited to; None when it is not limited."""
    token = request.auth
    if not isinstance(token, ApiToken):
        return None
    ids = {c.pk for c in token.campaigns.all()}
    return ids or None


def require_token_reach(request: Request, campaign_id: int) -> None:
    """404, as for an outsider, when the token is limited to other campaigns."""
    allowed = token_campaign_ids(request)
    if allowed is not None and campaign_id not in allowed:
        raise Http404("No such campaign")
