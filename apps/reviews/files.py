from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404


def serve_stored(key: str, content_type: str, *, etag: str | None = None) -> FileResponse:
    """A stored file, after the caller's permission check; never a public URL. Same headers
    as the drafts app's image views: private caching and a sandbox for the response."""
    try:
        fh = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    response = FileResponse(fh, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if etag:
        response["ETag"] = f'"{etag}"'
    return response
