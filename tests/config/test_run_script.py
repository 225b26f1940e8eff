"""bin/run as a newcomer meets it: a fresh run prints no warnings and ends with the URL and the
logins once the worker is ready; Celery's banner and task lines go to a log under var/; started
in the background, it stops cleanly on SIGINT and on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM])
def test_a_fresh_run_is_quiet_ends_with_the_url_and_stops_on_a_signal(tmp_path, stop_with):
    port = _free_port()
    # The embedded defaults, not what this test process set for itself (tests/settings.py).
    ours = ("DJANGO_", "PYTEST", "CELERY_", "DRAFTROOM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(PORT=str(port), DRAFTROOM_VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT))
    run = subprocess.Popen(
        ["bin/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As a shell without job control starts `bin/run &`: SIGINT ignored on entry.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert run.stdout is not None
        while time.monotonic() < deadline:
            line = run.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "each password is draftroom-" in line:
                break
        output = "".join(lines)
        assert f"Draftroom is running at http://127.0.0.1:{port}/" in output, output
        assert "warning" not in output.lower(), output
        worker_log = (tmp_path / "var" / "log" / "worker.log").read_text()
        assert "[queues]" in worker_log and " ready." in worker_log  # the banner, then ready
        assert str(tmp_path / "var" / "log" / "worker.log") in output
        assert _answers(port)
        run.send_signal(stop_with)
        rest, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, rest
    assert "Stopped." in rest
    assert not _answers(port)
