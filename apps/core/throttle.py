"""Counting attempts in fixed windows, in Django's cache (Redis in production, so every web
process shares the counts). The login throttle (apps.core.auth) and the share links' limits
(apps.sharing.throttle) count through here."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def count_hit(key: str, window: int) -> int:
    """Count one hit on ``key``; returns the hits in the current window of ``window`` seconds,
    which starts at the first hit."""
    if cache.add(key, 1, window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def hits(key: str) -> int:
    return int(cache.get(key, 0))
