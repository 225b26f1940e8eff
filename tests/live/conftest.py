"""The live suite: this machine's PostgreSQL and Redis, a real Celery worker process and, for
the S3 tests, an S3 server (moto's server mode, started here on a free loopback port).

bin/test runs it with DATABASE_URL and CELERY_BROKER_URL pointing at the live services. Outside
CI the tests skip when a service is missing; under CI=true they must run.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    try:
        import moto.server  # noqa: F401  (the S3 server the S3 tests start)
    except ImportError:
        return "moto[server] is not installed (pip install -e '.[dev]')"
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


class S3Server:
    """moto's S3 server on a loopback port, in a thread of the test process, so stopping it
    (an outage) and starting it again on the same port keeps the buckets and their objects."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.running = False
        self.bucket = ""  # the current test's (the ``s3`` fixture)
        self.start()

    def start(self) -> None:
        self._server.start()
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("moto's S3 server did not start")
            time.sleep(0.05)
        self.running = True

    def stop(self) -> None:
        """Refuse connections from now on, as a stopped MinIO would."""
        if self.running:
            self._server.stop()
            self.running = False

    def client(self) -> Any:
        import boto3

        from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server, settings, monkeypatch, _media) -> Iterator[S3Server]:  # type: ignore[no-untyped-def]
    """Storage on the S3 server for this test: a bucket of its own, the test process's
    settings (as production's STORAGE_BACKEND=s3 makes them) and the environment every process
    started afterwards loads config/settings.py with (ask for it before ``worker``)."""
    from tests.s3 import s3_environment, s3_storages

    if not s3_server.running:
        s3_server.start()
    bucket = f"live-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    settings.STORAGES = s3_storages(settings, bucket=bucket, endpoint_url=s3_server.endpoint_url)
    for name, value in s3_environment(bucket=bucket, endpoint_url=s3_server.endpoint_url).items():
        monkeypatch.setenv(name, value)
    s3_server.bucket = bucket
    yield s3_server
    if not s3_server.running:
        s3_server.start()  # a fault test that failed half-way must not leave it stopped


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
