"""Every API error as RFC 9457 problem details: ``application/problem+json`` with a ``detail``
written for the person reading the script's output."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.errors import Refusal, StaleView

PROBLEM_JSON = "application/problem+json"


class Refused(exceptions.APIException):
    """A rule of the domain said no (``apps.core.errors.Refusal``)."""

    status_code = 422
    default_code = "refused"


class Conflict(Refused):
    """The caller's ``expected_version`` is out of date (``StaleView``): nothing was saved."""

    status_code = 409


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(body, status=status, content_type=PROBLEM_JSON)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, StaleView):
        exc = Conflict(exc.message, code=exc.code)
    elif isinstance(exc, Refusal):
        exc = Refused(exc.message, code=exc.code)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (and logging) takes over
    data = response.data
    extra: dict[str, Any] = {}
    if isinstance(data, dict) and "detail" in data:
        detail = str(data["detail"])
        code = getattr(data["detail"], "code", None)
    else:
        # Validation errors: one sentence on top, the per-field messages beside it.
        detail = "Some fields are not valid: " + _flatten(data)
        code = "invalid"
        extra["errors"] = data
    if code:
        extra["code"] = code
    answer = problem(response.status_code, detail, **extra)
    for name, value in response.items():
        answer[name] = value  # Retry-After, WWW-Authenticate
    answer.content_type = PROBLEM_JSON
    return answer


def _flatten(data: Any, prefix: str = "") -> str:
    if isinstance(data, dict):
        return "; ".join(_flatten(v, f"{prefix}{k}: ") for k, v in data.items())
    if isinstance(data, list):
        return " ".join(_flatten(v, prefix) for v in data)
    return f"{prefix}{data}"
