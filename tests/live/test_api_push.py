"""bin/push against a live server over PostgreSQL with a real worker: killed half-way, run
again, each file stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from apps.api.services import token_create
from apps.core.models import JobStatus
from apps.drafts.models import Draft, PreviewJob
from tests.api.push_script import PUSH
from tests.images import png_bytes
from tests.live.conftest import wait_for

pytestmark = pytest.mark.live

FILES = 8


def _folder(tmp_path):
    folder = tmp_path / "comfy-out"
    folder.mkdir()
    for i in range(FILES):
        # Big enough that pushing all of them takes a moment: the kill lands half-way.
        (folder / f"gen_{i:03}.png").write_bytes(
            png_bytes(size=(1600, 1200), color=(i * 30 % 255, 90, 200 - i * 10))
        )
        (folder / f"gen_{i:03}.json").write_text(
            json.dumps(
                {"prompt": f"a tin on snow, take {i}", "seed": 1000 + i, "generator": "ComfyUI"}
            )
        )
    return folder


def _push(folder, campaign, url: str, secret: str) -> subprocess.Popen:
    env = {**os.environ, "DRAFTROOM_TOKEN": secret}
    return subprocess.Popen(
        [sys.executable, str(PUSH), str(folder), "--campaign", campaign.name, "--url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_push_killed_half_way_and_run_again_stores_each_file_exactly_once(
    live_server, cast, worker, tmp_path
):
    _token, secret = token_create(user=cast.creator, name="render box", scope="write")
    folder = _folder(tmp_path)

    first = _push(folder, cast.campaign, live_server.url, secret)
    lines = []
    assert first.stdout is not None
    for line in first.stdout:
        lines.append(line)
        if sum(": added" in seen for seen in lines) == FILES // 2:
            os.killpg(first.pid, signal.SIGKILL)
            break
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    stored_before = Draft.objects.filter(campaign=cast.campaign).count()
    assert FILES // 2 <= stored_before < FILES

    second = _push(folder, cast.campaign, live_server.url, secret)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out
    assert out.count("(sent before)") >= FILES // 2
    assert out.strip().endswith(f"Done: {FILES} added") or "duplicate" in out

    drafts = Draft.objects.filter(campaign=cast.campaign)
    assert drafts.count() == FILES
    assert drafts.values("sha256").distinct().count() == FILES
    assert sorted(drafts.values_list("seed", flat=True)) == list(range(1000, 1000 + FILES))
    wait_for(
        lambda: PreviewJob.objects.filter(status=JobStatus.DONE).count() == FILES,
        what="previews of every pushed draft",
        worker=worker,
    )
