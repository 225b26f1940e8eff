"""serve_private and safe_next: the one private-file response and the one safe redirect."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import RequestFactory

from apps.core.errors import Refusal
from apps.core.http import (
    presigned_url,
    refuse,
    safe_next,
    serve_large,
    serve_private,
    storage_origin,
)


def test_a_private_file_carries_the_security_headers():
    default_storage.save("campaigns/1/x.png", ContentFile(b"\x89PNG data"))
    response = serve_private("campaigns/1/x.png", "image/png", etag="abc")
    assert response.getvalue() == b"\x89PNG data"
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["ETag"] == '"abc"'
    assert not response.get("Content-Disposition", "").startswith("attachment")


def test_a_filename_makes_it_a_download_and_caching_can_be_tightened():
    default_storage.save("packs/p.zip", ContentFile(b"PK"))
    response = serve_private(
        "packs/p.zip", "application/zip", filename="pack.zip", cache_control="private, no-store"
    )
    assert response["Content-Disposition"] == 'attachment; filename="pack.zip"'
    assert response["Cache-Control"] == "private, no-store"
    assert "ETag" not in response


def test_a_file_missing_from_storage_is_a_404():
    with pytest.raises(Http404):
        serve_private("campaigns/1/gone.png", "image/png")


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ("/drafts/3/", "/drafts/3/"),
        ("/drafts/3/?tab=exports#x", "/drafts/3/?tab=exports#x"),
        ("", "/fallback/"),
        ("rework:inbox", "/fallback/"),
        ("https://evil.example/", "/fallback/"),
        ("//evil.example/", "/fallback/"),
        ("/\\evil.example/", "/fallback/"),
        ("http://testserver/drafts/3/", "/fallback/"),
    ],
)
def test_safe_next_keeps_only_paths_on_this_site(posted, expected):
    request = RequestFactory().post("/x/", {"next": posted} if posted else {})
    assert safe_next(request, "/fallback/") == expected


def _request(accept: str = "text/html"):  # type: ignore[no-untyped-def]
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().post("/x/", HTTP_ACCEPT=accept)
    request.session = {}  # type: ignore[attr-defined]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_a_refusal_becomes_an_error_message_and_a_redirect():
    request = _request()
    response = refuse(request, Refusal("Only kept drafts can be upscaled."), back="/drafts/3/")
    assert response.status_code == 302 and response["Location"] == "/drafts/3/"
    assert [str(m) for m in get_messages(request)] == ["Only kept drafts can be upscaled."]


def test_a_refusal_answers_json_with_its_prefix_status_and_key():
    request = _request("application/json")
    response = refuse(
        request,
        Refusal("Only kept drafts can be upscaled."),
        back="/drafts/3/",
        prefix="Not queued: ",
        status=422,
        json_key="message",
    )
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "ok": False,
        "message": "Not queued: Only kept drafts can be upscaled.",
    }


# --- large files from S3: presigned URLs -------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def test_from_s3_a_large_file_is_a_redirect_to_a_sigv4_url_with_our_headers(s3_bucket, settings):
    settings.SIGNED_URL_SECONDS = 300
    default_storage.save("packs/p.zip", ContentFile(b"PK"))
    response = serve_large("packs/p.zip", "application/zip", filename="pack-7.zip")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    query = _query(response["Location"])
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # SigV4, not SigV2's Signature=
    assert "Signature" not in query and query["X-Amz-Signature"]
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-type"] == "application/zip"
    assert query["response-content-disposition"] == 'attachment; filename="pack-7.zip"'
    assert query["response-cache-control"] == "private, no-store"


def test_a_presigned_url_never_outlives_an_hour_and_an_image_is_shown_inline(s3_bucket, settings):
    settings.SIGNED_URL_SECONDS = 7 * 24 * 3600
    default_storage.save("drafts/o.png", ContentFile(b"\x89PNG"))
    query = _query(presigned_url("drafts/o.png", "image/png") or "")
    assert query["X-Amz-Expires"] == "3600"
    assert query["response-content-disposition"] == "inline"


def test_a_large_file_missing_from_s3_is_a_404_not_a_url(s3_bucket):
    with pytest.raises(Http404):
        serve_large("packs/gone.zip", "application/zip")


def test_from_the_filesystem_a_large_file_is_served_as_before():
    default_storage.save("packs/p.zip", ContentFile(b"PK"))
    response = serve_large("packs/p.zip", "application/zip", filename="pack.zip")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pack.zip"'
    assert presigned_url("packs/p.zip", "application/zip") is None
    assert storage_origin() is None


def test_pages_allow_images_from_the_storage_origin_only_when_it_presigns(s3_bucket, client):
    # An original at 100 % is an <img> that follows the redirect to the bucket's host.
    origin = storage_origin()
    assert origin == "https://media.s3.amazonaws.com"
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert f"img-src 'self' {origin} blob: data:" in policy
