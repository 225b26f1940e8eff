"""Retry-safe writes: a request sent again with the same ``Idempotency-Key`` gets the first
answer back instead of acting twice (the draft stored once, one job queued)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.problems import problem
from apps.api.services import idempotent_answer_find, idempotent_answer_store
from apps.core.http import request_user

HEADER = "Idempotency-Key"


def idempotent(request: Request, act: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return act()
    if len(key) > 200:
        return problem(400, f"The {HEADER} header is longer than 200 characters.")
    user = request_user(request)
    fingerprint = hashlib.sha256(f"{request.method} {request.path}".encode()).hexdigest()
    stored = idempotent_answer_find(user=user, key=key)
    if stored is None:
        response = act()
        # Only answers that record something that happened are kept; after an error the caller
        # may fix the request (or wait for storage to come back) and send it again.
        if not 200 <= response.status_code < 300:
            return response
        stored = idempotent_answer_store(
            user=user,
            key=key,
            fingerprint=fingerprint,
            status_code=response.status_code,
            body=response.data,
        )
        if stored.body == response.data:
            return response
    if stored.request_fingerprint != fingerprint:
        return problem(
            422,
            f"This {HEADER} was used for another request; use a new key for each request.",
            code="idempotency_key_reused",
        )
    replay = Response(stored.body, status=stored.status_code)
    replay["Idempotent-Replayed"] = "true"
    return replay
