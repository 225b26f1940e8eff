"""The token page under the person's settings: make, see and revoke their API tokens."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from apps.api.forms import TokenForm
from apps.api.selectors import get_token_for_user, user_tokens
from apps.api.services import token_create, token_revoke
from apps.campaigns.selectors import campaigns_for_user
from apps.core.errors import Refusal
from apps.core.forms import parse_id
from apps.core.http import refuse, request_user


def tokens_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST" and request.POST.get("action") == "revoke":
        return _revoke(request, user)
    form = TokenForm(request.POST or None, campaigns=campaigns_for_user(user))
    secret = ""
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["expires_on"]
        expires_at = (
            timezone.make_aware(datetime.combine(day, time.max)) if day is not None else None
        )
        try:
            token, secret = token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                campaigns=form.cleaned_data["campaigns"],
                expires_at=expires_at,
            )
        except Refusal as exc:
            messages.error(request, f"Not made: {exc.message}")
        else:
            # Shown in this answer only (never stored, never in a redirect's URL); the page
            # says so. no-store keeps it out of the browser's cache and its Back button.
            form = TokenForm(campaigns=campaigns_for_user(user))
            response = render(
                request,
                "api/tokens.html",
                {"form": form, "tokens": user_tokens(user), "secret": secret, "new": token},
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/tokens.html", {"form": form, "tokens": user_tokens(user)})


def _revoke(request: HttpRequest, user: User) -> HttpResponse:
    token = get_token_for_user(user, parse_id(request.POST.get("token", "")) or 0)
    try:
        token_revoke(token=token, by=user)
    except Refusal as exc:
        return refuse(request, exc, back="api:tokens")
    messages.success(request, f"Token “{token.name}” revoked: scripts using it now get 401.")
    return redirect("api:tokens")
