from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from apps.api.models import ApiToken
from apps.api.services import TOKEN_PREFIX, token_digest
from apps.core.forms import MAX_ID


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token with this secret, its owner loaded; None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .prefetch_related("campaigns")
        .filter(digest=token_digest(secret))
        .first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    return token


def user_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).prefetch_related("campaigns")


def get_token_for_user(user: User, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=pk, user=user).first() if 0 < pk <= MAX_ID else None
    if token is None:
        raise Http404("No such token")
    return token
