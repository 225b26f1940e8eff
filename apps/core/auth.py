"""Login with throttling: repeated failures for one username or one address slow attackers down.

Counts live in Django's cache (Redis in production, so every gunicorn worker shares them).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.throttle import client_address, count_hit, hits


def _keys(request: HttpRequest) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()
    address = client_address(request)
    digest = hashlib.sha256(username.encode()).hexdigest()[:32]
    return [f"login-fail:user:{digest}", f"login-fail:addr:{address}"]


def login_blocked(request: HttpRequest) -> bool:
    limits = (settings.LOGIN_FAILURES_PER_USER, settings.LOGIN_FAILURES_PER_ADDRESS)
    pairs = zip(_keys(request), limits, strict=True)
    return any(hits(key) >= limit for key, limit in pairs)


def login_failed(request: HttpRequest) -> None:
    for key in _keys(request):
        count_hit(key, settings.LOGIN_THROTTLE_SECONDS)


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if login_blocked(request):
            minutes = max(1, settings.LOGIN_THROTTLE_SECONDS // 60)
            return render(
                request,
                "registration/login.html",
                {
                    "form": self.get_form(),
                    "throttled": f"Too many failed attempts. Try again in {minutes} minutes.",
                },
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        login_failed(self.request)
        return super().form_invalid(form)
