"""Retry-safe writes: a request sent again with the same ``Idempotency-Key`` gets the first
answer back instead of acting twice (the draft stored once, one job queued)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.problems import problem
from apps.api.services import (
    HELD,
    idempotent_answer_keep,
    idempotent_key_hold,
    idempotent_key_release,
)
from apps.core.http import request_user

HEADER = "Idempotency-Key"


def idempotent(request: Request, act: Callable[[], Response]) -> Response:
    """Act once per key: the key is held before acting, so two copies of one request sent at
    the same moment never both act (the second is told to retry, then gets the first answer)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return act()
    if len(key) > 200:
        return problem(400, f"The {HEADER} header is longer than 200 characters.")
    user = request_user(request)
    fingerprint = hashlib.sha256(f"{request.method} {request.path}".encode()).hexdigest()
    row, held = idempotent_key_hold(user=user, key=key, fingerprint=fingerprint)
    if held:
        try:
            response = act()
        except BaseException:
            idempotent_key_release(row=row)
            raise
        # Only answers that record something that happened are kept; after an error the
        # caller may fix the request (or wait for storage to come back) and send it again.
        if 200 <= response.status_code < 300:
            idempotent_answer_keep(row=row, status_code=response.status_code, body=response.data)
        else:
            idempotent_key_release(row=row)
        return response
    if row.request_fingerprint != fingerprint:
        return problem(
            422,
            f"This {HEADER} was used for another request; use a new key for each request.",
            code="idempotency_key_reused",
        )
    if row.status_code == HELD:
        busy = problem(
            409,
            f"A request with this {HEADER} is still being processed: send it again in a moment "
            "to get its answer.",
            code="idempotency_key_in_use",
        )
        busy["Retry-After"] = "2"
        return busy
    replay = Response(row.body, status=row.status_code)
    replay["Idempotent-Replayed"] = "true"
    return replay
