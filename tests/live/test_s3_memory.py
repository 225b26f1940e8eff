"""Memory stays bounded when a pack of large masters is built on S3: the worker reads members
through django-storages' spooled files (spilling to disk above AWS_S3_MAX_MEMORY_SIZE), zips
them into a temporary file and hands that to a multipart upload. The peak resident memory of
the worker processes is printed (run with ``-s``) and held under 1 GiB.

PACK_MEMORY_DRAFTS (20) and PACK_MEMORY_MEGAPIXELS (16) size the pack."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.exports.models import Pack
from apps.upscales.models import UpscaleJob
from tests.factories import make_draft
from tests.images import encode_png, png_bytes
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live

DRAFTS = int(os.environ.get("PACK_MEMORY_DRAFTS", "20"))
MEGAPIXELS = int(os.environ.get("PACK_MEMORY_MEGAPIXELS", "16"))
LIMIT = 1024**3


def _master_png(megapixels: int) -> tuple[bytes, tuple[int, int]]:
    """A 4:3 master about as hard to compress as an upscaled photo (a gradient with grain)."""
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5) // 4 * 4
    height = width * 3 // 4
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 200, width, dtype=np.float32)[None, :, None]
    grain = rng.integers(0, 48, (height, width, 3), dtype=np.uint8)
    pixels = (ramp + grain).clip(0, 255).astype(np.uint8)
    return encode_png(Image.fromarray(pixels, "RGB")), (width, height)


def _tree_peak_rss(pid: int) -> dict[int, int]:
    """Peak resident set (VmHWM, bytes) of ``pid`` and its children (the pool processes)."""
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout.split()
    peaks = {}
    for each in [pid, *map(int, children)]:
        status = Path(f"/proc/{each}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        peaks[each] = int(line.split()[1]) * 1024
    return peaks


def test_a_pack_of_twenty_16_mp_masters_is_built_on_s3_in_bounded_memory(
    s3, cast, batch, worker, capsys
):
    master, (width, height) = _master_png(MEGAPIXELS)
    bucket = s3.client()
    first_key = f"campaigns/{cast.campaign.pk}/upscales/memory-master.png"
    bucket.put_object(Bucket=s3.bucket, Key=first_key, Body=master)
    digest = hashlib.sha256(master).hexdigest()
    for index in range(DRAFTS):
        draft = make_draft(batch, name=f"d{index}.png", data=png_bytes(size=(64 + index, 48)))
        key = f"campaigns/{cast.campaign.pk}/upscales/master-{draft.pk}.png"
        bucket.copy_object(  # one upload, copied on the server: the test's time goes on the pack
            Bucket=s3.bucket, Key=key, CopySource={"Bucket": s3.bucket, "Key": first_key}
        )
        UpscaleJob.objects.create(
            draft=draft,
            model_name="general-x4v3",
            used_model="general-x4v3",
            scale=4,
            status=JobStatus.DONE,
            output_key=key,
            output_sha256=digest,
            output_width=width,
            output_height=height,
            output_bytes=len(master),
        )
    Draft.objects.update(decision=Decision.KEEP)
    baseline = sum(_tree_peak_rss(worker.proc.pid).values())

    producer = cast.client("producer")
    started = time.monotonic()
    producer.post(reverse("exports:pack-create", args=[cast.campaign.pk]), {"kind": "zip"})
    pack = wait_for(
        lambda: Pack.objects.filter(status__in=[JobStatus.DONE, JobStatus.FAILED]).first(),
        timeout=900,
        what="the pack of large masters",
        worker=worker,
    )
    built = time.monotonic() - started
    assert pack.status == JobStatus.DONE, pack.error
    peaks = _tree_peak_rss(worker.proc.pid)

    # Downloaded through the presigned URL, streamed and hashed as it arrives.
    response = producer.get(reverse("exports:pack-download", args=[pack.pk]))
    assert response.status_code == 302
    received, digest_of_pack = 0, hashlib.sha256()
    with urllib.request.urlopen(response["Location"], timeout=300) as answer:  # noqa: S310
        while chunk := answer.read(1024 * 1024):
            received += len(chunk)
            digest_of_pack.update(chunk)
    assert (received, digest_of_pack.hexdigest()) == (pack.byte_size, pack.sha256)

    with capsys.disabled():
        print(
            f"\npack of {DRAFTS} drafts with {width}x{height} masters "
            f"({len(master) / 2**20:.1f} MiB each): {pack.byte_size / 2**20:.0f} MiB zip, "
            f"built and stored in {built:.0f} s; worker peak RSS per process "
            + ", ".join(f"{rss / 2**20:.0f} MiB" for rss in peaks.values())
            + f" (before the pack: {baseline / 2**20:.0f} MiB in all)"
        )
    assert max(peaks.values()) < LIMIT
