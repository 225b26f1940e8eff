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


# A key is held (status 0) while its first request runs. A holder that died mid-request (a
# killed web process) leaves the hold behind; after this long a retry takes it over.
IDEMPOTENCY_HOLD = timedelta(minutes=10)
HELD = 0


def idempotent_key_hold(*, user: User, key: str, fingerprint: str) -> tuple[IdempotentAnswer, bool]:
    """Hold ``key`` for this request before it acts. Returns the key's row and whether this
    request holds it now; a row held by another request that is still running, or one with
    its kept answer, is returned with False."""
    try:
        with transaction.atomic():
            row = IdempotentAnswer.objects.create(
                user=user, key=key, request_fingerprint=fingerprint, status_code=HELD, body={}
            )
            return row, True
    except IntegrityError:
        row = IdempotentAnswer.objects.get(user=user, key=key)
    if row.status_code == HELD and row.created_at < timezone.now() - IDEMPOTENCY_HOLD:
        taken = IdempotentAnswer.objects.filter(
            pk=row.pk, status_code=HELD, created_at=row.created_at
        ).update(created_at=timezone.now(), request_fingerprint=fingerprint)
        if taken:
            row.refresh_from_db()
            return row, True
    return row, False


def idempotent_answer_keep(*, row: IdempotentAnswer, status_code: int, body: object) -> None:
    """The held key's request succeeded: keep its answer for retries."""
    IdempotentAnswer.objects.filter(pk=row.pk, status_code=HELD).update(
        status_code=status_code, body=body
    )


def idempotent_key_release(*, row: IdempotentAnswer) -> None:
    """The held key's request failed or was refused: free the key, so the caller may fix the
    request (or wait for storage to come back) and send it again with the same key."""
    IdempotentAnswer.objects.filter(pk=row.pk, status_code=HELD).delete()


def idempotent_answers_expire(*, older_than: timedelta = timedelta(days=7)) -> int:
    deleted, _ = IdempotentAnswer.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
