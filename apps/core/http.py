from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.errors import Refusal


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def request_user(request: HttpRequest) -> User:
    """The logged-in person; LoginRequiredMiddleware keeps anonymous visitors out already."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Log in first.")
    return user


def serve_private(
    key: str,
    content_type: str,
    *,
    etag: str | None = None,
    filename: str | None = None,
    cache_control: str = "private, max-age=3600",
) -> FileResponse:
    """The one response for a stored file, after the caller's permission check; never a
    public URL. Uploaded and generated files are untrusted: ``nosniff`` and a sandboxing CSP
    keep a browser from running anything in them, and ``private`` keeps shared caches out.
    ``filename`` makes it a download."""
    try:
        fh = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    response = FileResponse(fh, content_type=content_type)
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if etag:
        response["ETag"] = f'"{etag}"'
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the form posted when it is a path on this site, else ``fallback``.

    Only paths: ``redirect()`` would also read a bare word such as "rework:inbox" as a view
    name and answer NoReverseMatch (a 500), and an absolute or scheme-relative URL would make
    us an open redirect."""
    target = request.POST.get("next", "")
    local = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    )
    return target if local else fallback


def refuse(
    request: HttpRequest,
    refusal: Refusal,
    *,
    back: str,
    prefix: str = "",
    status: int = 400,
    json_key: str = "error",
) -> HttpResponse:
    """How every view answers a ``Refusal``: JSON ``{"ok": false, <json_key>: text}`` for
    scripts, else the text as an error message and a redirect to ``back``. ``prefix`` says
    what did not happen ("Not queued: "); ``json_key`` keeps each endpoint's JSON shape."""
    text = f"{prefix}{refusal.message}"
    if wants_json(request):
        return JsonResponse({"ok": False, json_key: text}, status=status)
    messages.error(request, text)
    return redirect(back)
