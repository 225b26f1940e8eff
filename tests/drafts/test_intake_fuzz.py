"""Hypothesis drives the real upload endpoint with mutated PNG, JPEG and WebP files.

Whatever the bytes, the answer is a per-file JSON result (200 added/duplicate, 422 rejected),
never a 500. Bounded: a fixed number of examples, no deadline, derandomised for CI.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.images import jpeg_bytes, png_bytes, webp_bytes

SEEDS = {
    "png": png_bytes(size=(24, 16), color=(10, 200, 30), text={"parameters": "a can\nSteps: 3"}),
    "jpg": jpeg_bytes(size=(24, 16), color=(200, 10, 30), description="a can on ice"),
    "webp": webp_bytes(size=(24, 16), color=(30, 10, 200)),
}


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes]:
    ext = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[ext])
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "splice"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            data[pos:] = other[draw(st.integers(0, len(other) - 1)) :]
    return f"fuzz.{ext}", bytes(data)


@pytest.mark.django_db
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(upload=mutated_files())
def test_mutated_uploads_never_cause_a_server_error(cast, batch, upload):
    name, data = upload
    client = cast.client("creator")
    response = client.post(
        reverse("drafts:upload-file", args=[batch.pk]),
        {"file": SimpleUploadedFile(name, data)},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code in (200, 422), response.content[:200]
    body = response.json()
    assert body["status"] in ("added", "duplicate", "rejected")
    assert body["message"]
