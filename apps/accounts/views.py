from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.accounts.backends import sso_enabled


@login_not_required
def sso_login(request: HttpRequest) -> HttpResponse:
    """Off to the identity provider (``?next=`` comes back with the person)."""
    if not sso_enabled():
        raise Http404("Single sign-on is not configured")
    return OIDCAuthenticationRequestView.as_view()(request)


@login_not_required
def sso_callback(request: HttpRequest) -> HttpResponse:
    if not sso_enabled():
        raise Http404("Single sign-on is not configured")
    return OIDCAuthenticationCallbackView.as_view()(request)
