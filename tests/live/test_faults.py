"""Breaking things on purpose: a killed worker and restarted Redis lose no job.

Redis here is a private redis-server started by the test (append-only on or off), so the
machine's own Redis is never restarted under other tests.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone

from apps.core.jobs import sweep_jobs
from apps.core.models import JobStatus
from apps.drafts.models import PreviewJob, Rendition
from tests.factories import make_draft
from tests.images import pattern_image
from tests.live.conftest import BOTH_QUEUES, GPU_THREADS, WorkerProcess, wait_for

pytestmark = pytest.mark.live


def _missing(reason: str) -> None:
    """Outside CI a fault test skips when its tool is missing; under CI=true it must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but this fault test cannot run: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, folder: Path, *, appendonly: bool) -> None:
        self.folder, self.appendonly = folder, appendonly
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.folder), "--save", "", "--appendonly",
             "yes" if self.appendonly else "no", "--appendfsync", "always",
             "--pidfile", str(self.folder / "redis.pid"),
             "--logfile", str(self.folder / "redis.log")],
            check=True,
        )  # fmt: skip
        wait_for(self._ping, timeout=20, what="redis to start")

    def _ping(self) -> bool:
        try:
            return (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            )
        except OSError:
            return False

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        wait_for(lambda: not self._ping(), timeout=20, what="redis to stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued_messages(self) -> int:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "llen", "default"], capture_output=True, text=True
        )
        return int(out.stdout.strip() or 0)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[callable]:
    if shutil.which("redis-server") is None:
        _missing("redis-server is not installed")
    started: list[PrivateRedis] = []

    def make(*, appendonly: bool) -> PrivateRedis:
        folder = tmp_path / f"redis-{len(started)}"
        folder.mkdir()
        started.append(PrivateRedis(folder, appendonly=appendonly))
        return started[-1]

    yield make
    for redis in started:
        redis.stop()


class _Publisher:
    """Publishes to one broker URL, whatever CELERY_BROKER_URL says (Celery lets that variable
    override the app's configured broker)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.app = Celery("draftroom-test")
        self.app.conf.task_serializer = "json"

    def send_task(self, name: str, **kwargs: object) -> None:
        with self.app.connection_for_write(self.url) as conn:
            self.app.send_task(name, connection=conn, **kwargs)


@pytest.fixture
def publish_to(mocker):
    """Point the web side's publishing at the private broker."""

    def point(url: str) -> None:
        mocker.patch("apps.core.jobs.current_app", _Publisher(url))

    return point


def _db_name() -> str:
    return connection.settings_dict["NAME"]


def _done(n: int) -> bool:
    return PreviewJob.objects.filter(status=JobStatus.DONE).count() == n


def test_queued_jobs_survive_a_redis_restart_with_append_only_persistence(
    batch, live_var, private_redis, publish_to, transactional_db
):
    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    for i in range(3):
        make_draft(batch, name=f"d{i}.png")
    queued = redis.queued_messages()
    assert queued >= 3  # previews, and whatever else intake queues (checks)
    redis.restart()
    assert redis.queued_messages() == queued  # the append-only file brought them back
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    try:
        wait_for(lambda: _done(3), what="all three jobs after the restart", worker=worker)
    finally:
        worker.stop()


def test_without_persistence_the_sweeper_republishes_what_redis_lost(
    batch, live_var, private_redis, publish_to, transactional_db
):
    redis = private_redis(appendonly=False)
    publish_to(redis.url)
    for i in range(3):
        make_draft(batch, name=f"d{i}.png")
    redis.restart()
    assert redis.queued_messages() == 0  # the messages are gone; the job rows are not
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    try:
        PreviewJob.objects.update(queued_at=timezone.now() - timedelta(minutes=10))
        assert sweep_jobs()["republished"] >= 3
        wait_for(lambda: _done(3), what="the swept jobs", worker=worker)
    finally:
        worker.stop()


def test_a_worker_killed_mid_job_loses_nothing_and_the_attempt_is_counted(
    batch, live_var, private_redis, publish_to, transactional_db
):
    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    # 64 MP that compresses well: a small upload whose decode and resize take a while.
    buf = io.BytesIO()
    pattern_image((8000, 8000)).save(buf, "PNG", compress_level=1)
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    draft = make_draft(batch, name="big.png", data=buf.getvalue())
    wait_for(
        lambda: PreviewJob.objects.filter(status=JobStatus.RUNNING).exists(),
        what="the job to start",
        worker=worker,
    )
    worker.kill()  # SIGKILL, mid-render
    job = PreviewJob.objects.get()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert not Rendition.objects.filter(draft=draft).exists()  # nothing half-published

    _rerun_after_the_lease(job, live_var, redis.url)
    assert job.attempts == 2
    assert Rendition.objects.filter(draft=draft).count() == 2


def _database_answers() -> bool:
    try:
        return PreviewJob.objects.exists()
    except OperationalError:
        connection.close()
        return False


def _restart_postgresql() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def restartable_postgresql():
    if not Path("/etc/postgresql").is_dir() or shutil.which("pg_ctlcluster") is None:
        _missing("this PostgreSQL cannot be restarted from here (pg_ctlcluster)")
    return _restart_postgresql


def test_workers_reconnect_after_postgresql_restarts_under_them(
    batch, live_var, private_redis, publish_to, restartable_postgresql, transactional_db
):
    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    try:
        make_draft(batch, name="before.png")
        wait_for(lambda: _done(1), what="the first job", worker=worker)
        restartable_postgresql()  # the worker's open connection is now dead
        connection.close()  # and so is ours; the next query opens a new one
        wait_for(_database_answers, timeout=30, what="PostgreSQL to accept connections")
        make_draft(batch, name="after.png")
        wait_for(lambda: _done(2), what="the job after the restart", worker=worker)
    finally:
        worker.stop()


def test_a_worker_killed_mid_upscale_publishes_nothing_and_the_rerun_finishes(
    pinned_model, batch, live_var, private_redis, publish_to, transactional_db, monkeypatch
):
    from django.core.files.storage import default_storage

    from apps.drafts.models import Decision, Draft
    from apps.upscales.models import UpscaleJob
    from apps.upscales.services import upscale_request
    from tests.images import encode_png

    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    draft = make_draft(batch, data=encode_png(pattern_image((640, 480))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    # Small tiles, so there is a "between tiles" to kill it in (the CPU default is one tile).
    monkeypatch.setenv("UPSCALE_TILE", "128")
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    job, _ = upscale_request(draft=draft, by=None, model="general-x4v3", scale=4)
    wait_for(
        lambda: UpscaleJob.objects.filter(pk=job.pk, progress__gt=0.05).exists(),
        timeout=120,
        what="the upscale to be part-way through its tiles",
        worker=worker,
    )
    worker.kill()  # SIGKILL between tiles
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert not job.output_key
    _rerun_after_the_lease(job, live_var, redis.url)
    assert job.attempts == 2
    assert default_storage.exists(job.output_key)
    folder, name = job.output_key.rsplit("/", 1)
    assert default_storage.listdir(folder)[1] == [name]  # no part file left beside it


def test_a_worker_killed_mid_export_publishes_no_partial_version_and_the_rerun_finishes(
    cast, batch, live_var, private_redis, publish_to, transactional_db
):
    from apps.exports.models import ChannelVersion, ExportJob
    from apps.exports.services import export_queue, preset_defaults_ensure
    from tests.exports.builders import kept_draft

    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    preset_defaults_ensure()
    # A 64 MP PNG master: reading and decoding it keeps the export busy long enough to kill.
    buf = io.BytesIO()
    pattern_image((8000, 8000)).save(buf, "PNG", compress_level=1)
    draft = kept_draft(batch, cast.art_director, data=buf.getvalue(), name="big.png")
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    job = export_queue(draft=draft, by=cast.producer)
    wait_for(
        lambda: ExportJob.objects.filter(pk=job.pk, progress__gte=0.25).exists(),
        timeout=120,
        what="the export to be rendering",
        worker=worker,
    )
    worker.kill()  # SIGKILL while rendering
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert not ChannelVersion.objects.filter(draft=draft).exists()
    _assert_every_stored_export_is_whole(draft.campaign_id)

    _rerun_after_the_lease(job, live_var, redis.url)
    assert job.attempts == 2
    versions = list(ChannelVersion.objects.filter(draft=draft))
    assert len(versions) == 3 and {v.preset.slug for v in versions} == set(job.report)
    _assert_every_stored_export_is_whole(draft.campaign_id, expect=3)


def _rerun_after_the_lease(  # type: ignore[no-untyped-def]
    job, live_var: Path, broker_url: str, *, also=(), worker_args=BOTH_QUEUES
) -> None:
    """Time passes: the dead worker's lease runs out, the sweeper gives the job (and ``also``)
    back, and a new worker process finishes them."""
    jobs = [job, *also]
    rows = type(job).objects.filter(pk__in=[j.pk for j in jobs])
    rows.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = WorkerProcess(live_var, _db_name(), broker_url=broker_url, worker_args=worker_args)
    try:
        assert sweep_jobs()["requeued"] == len(jobs)
        wait_for(
            lambda: rows.filter(status=JobStatus.DONE).count() == len(jobs),
            timeout=240,
            what=f"the re-run {type(job).__name__}",
            worker=second,
        )
    finally:
        second.stop()
    for each in jobs:
        each.refresh_from_db()


def test_the_threaded_gpu_worker_killed_mid_upscale_loses_neither_of_its_two_jobs(
    pinned_model, batch, live_var, private_redis, publish_to, transactional_db, monkeypatch
):
    """The production gpu worker holds two jobs (one on the device, one waiting or decoding);
    SIGKILL takes both down, and both come back."""
    from django.core.files.storage import default_storage

    from apps.drafts.models import Decision, Draft
    from apps.upscales.models import UpscaleJob
    from apps.upscales.services import upscale_request
    from tests.images import encode_png

    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    drafts = [
        make_draft(batch, data=encode_png(pattern_image(s))) for s in ((640, 480), (600, 440))
    ]
    Draft.objects.filter(pk__in=[d.pk for d in drafts]).update(decision=Decision.KEEP)
    # Small tiles, so the running job has a "part-way" to be caught in (the CPU default is one
    # tile, which jumps the bar from 5 % to 90 % in one step).
    monkeypatch.setenv("UPSCALE_TILE", "128")
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url, worker_args=GPU_THREADS)
    jobs = [
        upscale_request(draft=Draft.objects.get(pk=d.pk), by=None, model="general-x4v3", scale=4)[0]
        for d in drafts
    ]
    wait_for(
        lambda: (
            UpscaleJob.objects.filter(progress__gt=0.05).exists()
            and UpscaleJob.objects.filter(status=JobStatus.RUNNING).count() == 2
        ),
        timeout=120,
        what="one upscale part-way through its tiles while the other is held too",
        worker=worker,
    )
    worker.kill()  # SIGKILL: both job threads die with the process
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempts, job.output_key) == (JobStatus.RUNNING, 1, "")
    _rerun_after_the_lease(jobs[0], live_var, redis.url, also=jobs[1:], worker_args=GPU_THREADS)
    for job in jobs:
        assert job.attempts == 2 and default_storage.exists(job.output_key)


def _assert_every_stored_export_is_whole(campaign_id: int, *, expect: int = 0) -> None:
    """Every file under the campaign's exports decodes completely (a write cut short stays a
    part file in storage's parts folder, never under a key)."""
    from django.core.files.storage import default_storage
    from PIL import Image

    root = f"campaigns/{campaign_id}/exports"
    files: list[str] = []
    pending = [root] if default_storage.exists(root) else []
    while pending:
        folder = pending.pop()
        subfolders, names = default_storage.listdir(folder)
        pending += [f"{folder}/{sub}" for sub in subfolders]
        files += [f"{folder}/{name}" for name in names]
    for key in files:
        with default_storage.open(key, "rb") as fh, Image.open(fh) as image:
            image.load()  # a truncated file raises here
    assert len(files) == expect


def test_a_job_whose_database_restarts_mid_task_is_handed_back_and_finishes_soon(
    batch, live_var, private_redis, publish_to, restartable_postgresql, transactional_db
):
    redis = private_redis(appendonly=True)
    publish_to(redis.url)
    buf = io.BytesIO()
    pattern_image((8000, 8000)).save(buf, "PNG", compress_level=1)
    worker = WorkerProcess(live_var, _db_name(), broker_url=redis.url)
    try:
        draft = make_draft(batch, name="big.png", data=buf.getvalue())
        wait_for(
            lambda: PreviewJob.objects.filter(status=JobStatus.RUNNING).exists(),
            what="the job to start",
            worker=worker,
        )
        restartable_postgresql()  # under the running task: its connection dies
        restarted = timezone.now()
        connection.close()
        wait_for(_database_answers, timeout=30, what="PostgreSQL to accept connections")
        wait_for(lambda: _done(1), timeout=120, what="the job after the restart", worker=worker)
    finally:
        worker.stop()
    job = PreviewJob.objects.get()
    assert job.attempts == 2  # handed back and claimed again, not failed
    assert job.finished_at - restarted < timedelta(seconds=settings.JOB_LEASE_SECONDS / 3)
    assert "lost its database connection" in worker.output()
    assert Rendition.objects.filter(draft=draft).count() == 2
