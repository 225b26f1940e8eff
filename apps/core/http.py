from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.storage import Storage, default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import parse_etags, quote_etag, url_has_allowed_host_and_scheme

from apps.core.errors import Refusal
from apps.core.storage import storage_is_s3

# A presigned URL is a bearer token for one file: short-lived whatever SIGNED_URL_SECONDS says.
PRESIGNED_MAX_SECONDS = 3600


def unchanged_since(request: HttpRequest, version: str) -> HttpResponse | None:
    """304 Not Modified when the page already shows ``version`` (its If-None-Match, as
    static/js/poll.js sends it in live mode), else None: render the fresh fragment and pass it
    through ``versioned``."""
    if version and quote_etag(version) in parse_etags(request.headers.get("If-None-Match", "")):
        return versioned(HttpResponseNotModified(), version)
    return None


def versioned(response: HttpResponse, version: str) -> HttpResponse:
    response["ETag"] = quote_etag(version)
    return response


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


def serve_large(
    key: str,
    content_type: str,
    *,
    etag: str | None = None,
    filename: str | None = None,
    cache_control: str = "private, max-age=3600",
) -> HttpResponseBase:
    """The response for a large stored file (a master, a pack, an original at 100 %), after
    the caller's permission check. From an object store it is a redirect to a short-lived
    presigned URL, so the browser fetches the bytes from storage and gunicorn never proxies
    gigabytes; from the filesystem it is ``serve_private``'s response, as before."""
    url = presigned_url(key, content_type, filename=filename)
    if url is None:
        return serve_private(
            key, content_type, etag=etag, filename=filename, cache_control=cache_control
        )
    response = HttpResponseRedirect(url)
    # The URL expires: neither the browser nor a shared cache may keep the redirect.
    response["Cache-Control"] = "private, no-store"
    return response


def presigned_url(
    key: str, content_type: str, *, filename: str | None = None, storage: Storage | None = None
) -> str | None:
    """A SigV4 URL for ``key`` that expires within the hour and makes storage answer with our
    content type and disposition (an attachment named ``filename``, else inline); None where
    the storage cannot presign (the filesystem). Never call it before a permission check."""
    storage = storage or default_storage
    if not storage_is_s3(storage):
        return None
    if not storage.exists(key):  # one HEAD, so a missing file is a 404 here as it was
        raise Http404("The file is missing from storage")
    disposition = f'attachment; filename="{filename}"' if filename else "inline"
    expire = max(1, min(settings.SIGNED_URL_SECONDS, PRESIGNED_MAX_SECONDS))
    s3: Any = storage  # S3Storage.url takes ``expire``; Django's Storage.url does not
    return s3.url(
        key,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": "private, no-store",
        },
        expire=expire,
    )


def storage_origin() -> str | None:
    """Where presigned URLs point (scheme and host), for the pages' content security policy:
    an original at 100 % is an ``<img>`` that follows the redirect there. None for the
    filesystem. Presigning is local (no request to storage)."""
    if not storage_is_s3(default_storage):
        return None
    parts = urlsplit(default_storage.url("origin-probe"))
    return f"{parts.scheme}://{parts.netloc}"


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
