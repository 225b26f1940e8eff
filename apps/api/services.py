"""Writes for API tokens and idempotent answers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.api.models import ApiToken, IdempotentAnswer, TokenScope
from apps.campaigns.models import Campaign
from apps.core.errors import Refusal

TOKEN_PREFIX = "drt_"  # noqa: S105  (a marker, not a secret)
# A token's "last used" is written at most this often, so a busy script costs no write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    user: User,
    name: str,
    scope: str = TokenScope.READ,
    campaigns: Iterable[Campaign] = (),
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is never stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise Refusal("Give the token a name that says what uses it.")
    if scope not in TokenScope.values:
        raise Refusal("Choose read or read-write.")
    if expires_at is not None and expires_at <= timezone.now():
        raise Refusal("The expiry date is in the past.")
    chosen = list(campaigns)
    member_of = set(user.memberships.values_list("campaign_id", flat=True))
    if any(c.pk not in member_of for c in chosen):
        raise Refusal("A token can only be limited to campaigns you belong to.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=secret[:12],
            digest=token_digest(secret),
            scope=scope,
            expires_at=expires_at,
        )
        token.campaigns.set(chosen)
    return token, secret


def token_revoke(*, token: ApiToken, by: User) -> bool:
    if token.user_id != by.pk:
        raise Refusal("This token is someone else's.")
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def token_touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def idempotent_answer_find(*, user: User, key: str) -> IdempotentAnswer | None:
    return IdempotentAnswer.objects.filter(user=user, key=key).first()


def idempotent_answer_store(
    *, user: User, key: str, fingerprint: str, status_code: int, body: object
) -> IdempotentAnswer:
    """Keep the first answer; when a concurrent retry stored one first, that one wins."""
    try:
        with transaction.atomic():
            return IdempotentAnswer.objects.create(
                user=user,
                key=key[:200],
                request_fingerprint=fingerprint,
                status_code=status_code,
                body=body,
            )
    except IntegrityError:
        return IdempotentAnswer.objects.get(user=user, key=key[:200])


def idempotent_answers_expire(*, older_than: timedelta = timedelta(days=7)) -> int:
    deleted, _ = IdempotentAnswer.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
