"""bin/run's gunicorn (threaded workers) stops at once on Ctrl-C, even with a connection open
that never sent a request, as browsers open ahead of need: without config/gunicorn_local.py
a worker waited five seconds for it and was sometimes SIGKILLed by the master."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bin_run_gunicorn_options() -> list[str]:
    """The options bin/run starts gunicorn with, read from the script itself."""
    script = (ROOT / "bin" / "run").read_text()
    command = re.search(r"^gunicorn (.*?)&$", script, re.MULTILINE | re.DOTALL)
    assert command, "bin/run no longer starts gunicorn on a line of its own"
    args = shlex.split(command.group(1).replace("\\\n", " "))
    args = [a for a in args if not a.startswith((">", "2>"))]  # its output goes to a log
    bind = args.index("--bind")
    del args[bind : bind + 2]
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited while starting"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.status == 200
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /healthz within 60 s")


def test_bin_run_uses_threaded_workers_and_the_local_hooks():
    args = _bin_run_gunicorn_options()
    assert "--threads" in args, "the hooks are for gthread workers"
    assert args[args.index("--config") + 1] == "python:config.gunicorn_local"


def test_ctrl_c_stops_the_threaded_server_without_waiting_for_idle_connections(tmp_path):
    port = _free_port()
    env = dict(os.environ, DRAFTROOM_VAR_DIR=str(tmp_path))
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *_bin_run_gunicorn_options(),
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    idle: list[socket.socket] = []
    try:
        _wait_until_serving(port, server)
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        time.sleep(0.3)  # accepted: each holds a worker thread waiting for a request
        started = time.monotonic()
        server.send_signal(signal.SIGINT)
        log, _ = server.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        for sock in idle:
            sock.close()
        if server.poll() is None:
            server.kill()
            server.wait()
    text = log.decode(errors="replace")
    assert "Worker quitting at once" in text, text[-2000:]
    assert "SIGKILL" not in text, text[-2000:]
    # gunicorn's threads wait 5 s for a first request; the master's graceful timeout is 5 s.
    assert took < 3, f"{took:.1f} s to stop:\n{text[-2000:]}"
