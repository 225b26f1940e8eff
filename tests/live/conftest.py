"""The live suite: this machine's PostgreSQL and Redis and a real Celery worker process.

bin/test runs it with DATABASE_URL and CELERY_BROKER_URL pointing at the live services. Outside
CI the tests skip when a service is missing; under CI=true they must run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _not_configured() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL does not point at PostgreSQL (run the live suite through bin/test)"
    if not REDIS_URL.startswith("redis://"):
        return "CELERY_BROKER_URL does not point at Redis (run the live suite through bin/test)"
    return None


def _unreachable() -> str | None:
    if not _reachable("127.0.0.1", 5432):
        return "PostgreSQL is not running on 127.0.0.1:5432"
    if not _reachable("127.0.0.1", 6379):
        return "Redis is not running on 127.0.0.1:6379"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = [item for item in items if "tests/live/" in str(item.fspath)]
    if not live:
        return
    # The main suite (SQLite, in-memory broker) collects these too and deselects them.
    reason = _not_configured()
    if reason is None:
        reason = _unreachable()
        if reason and os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI=true but the live suite cannot run: {reason}")
    for item in live:
        item.add_marker(pytest.mark.live)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live-var")


@pytest.fixture(autouse=True)
def _media(settings, live_var):  # type: ignore[no-untyped-def]
    """The test process and the worker process share one storage folder, as in production."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": live_var / "media", "base_url": "/media-not-served/"},
        },
    }


def _flush_broker() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


_STARTED: list[WorkerProcess] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A worker left behind by an interrupted test would steal the next run's messages.
    for proc in _STARTED:
        proc.kill()


# One worker for both queues, one process (as `bin/test` has always run the live suite).
BOTH_QUEUES = ("-Q", "default,gpu", "-c", "1")
# The production gpu worker (docker-compose.yml `gpu-worker`): two job threads in one process.
GPU_THREADS = ("-Q", "gpu", "--pool", "threads", "--concurrency", "2")


class WorkerProcess:
    def __init__(
        self,
        var: Path,
        db_name: str,
        broker_url: str | None = None,
        *,
        worker_args: tuple[str, ...] = BOTH_QUEUES,
    ) -> None:
        db = settings.DATABASES["default"]
        self.log = var / f"worker-{time.monotonic_ns()}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db_name}",
            "CELERY_BROKER_URL": broker_url or REDIS_URL,
            "DRAFTROOM_VAR_DIR": str(var),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", *worker_args,
             "--loglevel", "INFO", "-n", f"live-{os.getpid()}@%h"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        _STARTED.append(self)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not start:\n{self.log.read_text()[-4000:]}")

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(live_var, transactional_db) -> Iterator[WorkerProcess]:  # type: ignore[no-untyped-def]
    from django.db import connection

    _flush_broker()
    proc = WorkerProcess(live_var, connection.settings_dict["NAME"])
    yield proc
    proc.stop()


@pytest.fixture
def gpu_worker(live_var, transactional_db) -> Iterator[WorkerProcess]:  # type: ignore[no-untyped-def]
    """A worker run as docker-compose.yml runs `gpu-worker`: the gpu queue only, threads pool."""
    from django.db import connection

    _flush_broker()
    proc = WorkerProcess(live_var, connection.settings_dict["NAME"], worker_args=GPU_THREADS)
    yield proc
    proc.stop()


def wait_for(predicate, *, timeout: float = 90, what: str = "condition", worker=None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    log = worker.output()[-4000:] if worker else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


@pytest.fixture
def pinned_model(monkeypatch, settings, live_var):
    """A full-size general-x4v3 checkpoint in the worker's models folder, pinned for both
    processes (the worker reads the environment when the ``worker`` fixture starts it)."""
    from tests.upscales.builders import requires_upscaler, write_checkpoint

    requires_upscaler()
    from workers.upscale.registry import MODELS

    folder = live_var / "models"
    spec = write_checkpoint(MODELS["general-x4v3"], folder, seed=5)
    monkeypatch.setenv("UPSCALE_MODELS_DIR", str(folder))
    monkeypatch.setenv("UPSCALE_PINS", f"general-x4v3={spec.sha256}")
    settings.UPSCALE_MODELS_DIR = folder
    settings.UPSCALE_PINS = [f"general-x4v3={spec.sha256}"]
    return spec
