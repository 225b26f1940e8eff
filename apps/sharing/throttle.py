"""Rate limits for share links, in Django's cache (shared by every web process in production,
like the login throttle in apps.core.auth): per link and IP address, fixed windows."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _hit(key: str, window: int) -> int:
    if cache.add(key, 1, window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def share_request_allowed(request: HttpRequest, token_hash: str) -> bool:
    """Counts this request; False once the address passed the per-minute budget for the link
    (unknown tokens included, so guessing is throttled too)."""
    key = f"share:req:{token_hash[:32]}:{client_address(request)}"
    return _hit(key, 60) <= settings.SHARE_LINK_REQUESTS_PER_MINUTE


def _password_key(request: HttpRequest, token_hash: str) -> str:
    return f"share:pw:{token_hash[:32]}:{client_address(request)}"


def share_password_blocked(request: HttpRequest, token_hash: str) -> bool:
    count = cache.get(_password_key(request, token_hash), 0)
    return int(count) >= settings.SHARE_LINK_PASSWORD_FAILURES


def share_password_failed(request: HttpRequest, token_hash: str) -> None:
    _hit(_password_key(request, token_hash), settings.LOGIN_THROTTLE_SECONDS)
