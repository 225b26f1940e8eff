"""Rate limits for share links, per link and IP address, counted like the login throttle
(apps.core.throttle)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from apps.core.throttle import client_address, count_hit, hits

__all__ = [
    "client_address",
    "share_password_blocked",
    "share_password_failed",
    "share_request_allowed",
]


def share_request_allowed(request: HttpRequest, token_hash: str) -> bool:
    """Counts this request; False once the address passed the per-minute budget for the link
    (unknown tokens included, so guessing is throttled too)."""
    key = f"share:req:{token_hash[:32]}:{client_address(request)}"
    return count_hit(key, 60) <= settings.SHARE_LINK_REQUESTS_PER_MINUTE


def _password_key(request: HttpRequest, token_hash: str) -> str:
    return f"share:pw:{token_hash[:32]}:{client_address(request)}"


def share_password_blocked(request: HttpRequest, token_hash: str) -> bool:
    return hits(_password_key(request, token_hash)) >= settings.SHARE_LINK_PASSWORD_FAILURES


def share_password_failed(request: HttpRequest, token_hash: str) -> None:
    count_hit(_password_key(request, token_hash), settings.LOGIN_THROTTLE_SECONDS)
