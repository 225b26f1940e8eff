"""The HTTP part of "Save to Draftroom": plain functions over the Draftroom REST API, standard
library only (ComfyUI's Python has no extra packages to rely on)."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

RETRIES = 4


class DraftroomError(Exception):
    pass


def _request(
    method: str,
    url: str,
    token: str,
    *,
    body: bytes | None = None,
    content_type: str = "",
    idempotency_key: str = "",
    timeout: float = 60.0,
) -> tuple[int, dict[str, Any]]:
    if not url.startswith(("http://", "https://")):
        raise DraftroomError(f"not an http(s) address: {url}")
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "draftroom-comfyui/1"}
    if content_type:
        headers["Content-Type"] = content_type
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    for attempt in range(1, RETRIES + 1):
        # The scheme is checked above: only http(s), never file: or custom schemes.
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}")
            # 409 idempotency_key_in_use: an earlier try of this same request is still being
            # stored; once it is done the retry gets its answer.
            busy = exc.code == 409 and answer.get("code") == "idempotency_key_in_use"
            retry = exc.code == 429 or busy or exc.code >= 500
            if not retry or attempt == RETRIES:
                return exc.code, answer
            wait = exc.headers.get("Retry-After", "")
            time.sleep(float(wait) if wait.isdigit() else 2**attempt)
        except urllib.error.URLError as exc:
            # The same Idempotency-Key makes the retry safe even if the first one arrived.
            if attempt == RETRIES:
                raise DraftroomError(f"cannot reach {url}: {exc.reason}") from exc
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def batch_for(base_url: str, token: str, *, campaign_id: int, name: str) -> int:
    """The batch called ``name`` that this node made in the campaign (made on first use)."""
    key = "comfyui-batch-" + hashlib.sha256(f"{campaign_id}\0{name}".encode()).hexdigest()
    status, body = _request(
        "POST",
        f"{base_url.rstrip('/')}/api/v1/campaigns/{campaign_id}/batches/",
        token,
        body=json.dumps({"name": name, "note": "Saved from ComfyUI"}).encode(),
        content_type="application/json",
        idempotency_key=key,
    )
    if status not in (200, 201):
        raise DraftroomError(f"cannot make the batch: {body.get('detail', status)}")
    return int(body["id"])


def post_image(
    base_url: str,
    token: str,
    *,
    batch_id: int,
    png: bytes,
    name: str,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Upload one PNG (its workflow embedded, as ComfyUI saves it) with sidecar-style metadata.
    Returns the intake result: status added or duplicate and the draft id; raises on refusal."""
    boundary = uuid.uuid4().hex
    parts = [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + b"\r\n"
    ]
    if metadata:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
                f"{json.dumps(metadata)}\r\n"
            ).encode()
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    key = "comfyui-" + hashlib.sha256(png + f"\0{batch_id}".encode()).hexdigest()
    status, answer = _request(
        "POST",
        f"{base_url.rstrip('/')}/api/v1/batches/{batch_id}/drafts/",
        token,
        body=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        idempotency_key=key,
    )
    if status not in (200, 201):
        raise DraftroomError(f"{name} not saved: {answer.get('detail', status)}")
    return answer
