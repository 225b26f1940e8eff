"""Job rows: claiming, progress, finishing, dispatch after commit, and the sweeper.

Every long operation is a row of a concrete ``Job`` model registered here with the Celery task
that runs it. Status changes are compare-and-swap updates, so a message delivered twice, or a
row the sweeper re-queued while a slow worker still held it, cannot run one job twice.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from celery import current_app
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.models import Job, JobStatus
from apps.core.storage import STORAGE_OUTAGE, STORAGE_RETRYING

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)


# Asked of every claimed job before it runs: a reason to refuse it, or None to go ahead. The
# views check permissions when a job is queued; this checks again when the worker picks it up,
# so a job queued by someone removed from the campaign since (or a row written by anything but
# those views) does not run with rights nobody holds any more.
Authorize = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class JobKind:
    model: type[Job]
    task_name: str
    queue: str
    authorize: Authorize | None = None


_REGISTRY: dict[str, JobKind] = {}


def register_job_kind(
    model: type[Job], *, task_name: str, queue: str, authorize: Authorize | None = None
) -> None:
    _REGISTRY[model._meta.label] = JobKind(
        model=model, task_name=task_name, queue=queue, authorize=authorize
    )


def job_kinds() -> list[JobKind]:
    return list(_REGISTRY.values())


def _kind_for(job: Job) -> JobKind:
    return _REGISTRY[type(job)._meta.label]


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_SECONDS)


def job_create(model: type[J], **fields: Any) -> J:
    """Create a queued job row and publish it once the surrounding transaction commits. The
    caller audits the request (who asked for what differs per kind)."""
    job = model._default_manager.create(
        **{"queued_at": timezone.now(), "message": "Queued", **fields}
    )
    job_dispatch(job)
    return job


def job_get_or_create(model: type[J], **lookup: Any) -> tuple[J, bool]:
    """The job row for ``lookup`` (one per draft, say); a new one is queued and published after
    commit, an existing one is returned untouched, whatever its state."""
    job, created = model._default_manager.get_or_create(
        **lookup, defaults={"queued_at": timezone.now(), "message": "Queued"}
    )
    if created:
        job_dispatch(job)
    return job, created


def job_publish(job: Job) -> None:
    """Send the job's message now. Callers inside a transaction use ``job_dispatch``."""
    kind = _kind_for(job)
    current_app.send_task(kind.task_name, args=[job.pk], queue=kind.queue)


def job_dispatch(job: Job) -> None:
    """Publish after the surrounding transaction commits, so a worker never sees a missing row."""
    transaction.on_commit(lambda: job_publish(job))


@dataclass(frozen=True)
class Claim:
    claimed: bool
    retry_in: float | None = None  # seconds, when another worker may still hold the row


# The job this delivery claimed, so the task body knows it may hand that row back.
_claimed: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "draftroom_claimed_job", default=None
)


def job_claim(model: type[J], job_id: int) -> tuple[J | None, Claim]:
    """Move a queued (or lease-expired running) job to running; say why not otherwise."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    updated = model._default_manager.filter(
        claimable, pk=job_id, attempts__lt=settings.JOB_MAX_ATTEMPTS
    ).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        lease_expires_at=now + _lease(),
        error="",
        message="Started",
    )
    job = model._default_manager.filter(pk=job_id).first()
    if job is None:
        return None, Claim(False)
    if updated:
        _claimed.set((model._meta.label, job_id))
        kind = _REGISTRY.get(type(job)._meta.label)
        refusal = kind.authorize(job) if kind is not None and kind.authorize else None
        if refusal:
            logger.warning("job %s %s refused: %s", type(job).__name__, job.pk, refusal)
            job_fail(job, refusal)
            return job, Claim(False)
        return job, Claim(True)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and (
        job.attempts >= settings.JOB_MAX_ATTEMPTS
    ):
        job_fail(job, f"Gave up after {job.attempts} attempts (the worker kept stopping).")
        return job, Claim(False)
    if job.status == JobStatus.RUNNING and job.lease_expires_at:
        # Another delivery of the same message is running right now; check back after its lease.
        remaining = (job.lease_expires_at - now).total_seconds()
        return job, Claim(False, retry_in=max(5.0, remaining + 5.0))
    return job, Claim(False)


def job_finish(job: Job, *, output_key: str = "", message: str = "Done") -> bool:
    now = timezone.now()
    updated = (
        type(job)
        ._default_manager.filter(pk=job.pk, status=JobStatus.RUNNING)
        .update(
            status=JobStatus.DONE,
            progress=1.0,
            finished_at=now,
            output_key=output_key,
            message=message,
            timings=job.timings,
            lease_expires_at=None,
        )
    )
    return bool(updated)


def job_fail(job: Job, error: str) -> None:
    type(job)._default_manager.filter(pk=job.pk).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED,
        error=error[:4000],
        message="Failed",
        finished_at=timezone.now(),
        lease_expires_at=None,
    )


def job_release(job: Job, message: str) -> bool:
    """Give a running job back to the queue after a retryable failure (storage down)."""
    updated = (
        type(job)
        ._default_manager.filter(pk=job.pk, status=JobStatus.RUNNING)
        .update(
            status=JobStatus.QUEUED,
            message=message[:300],
            queued_at=timezone.now(),
            lease_expires_at=None,
        )
    )
    return bool(updated)


def job_requeue(
    job: Job,
    *,
    reset_attempts: bool = True,
    by: Any = None,
    statuses: Sequence[str] = (JobStatus.FAILED, JobStatus.CANCELLED),
) -> bool:
    """Retry a failed or cancelled job (a person pressed retry), or one in another of
    ``statuses`` (checks re-run a done job). False when the job is in none of them, e.g. still
    queued or running. The person who retries becomes the job's requester, so the worker's
    check (``authorize``) asks about them: a job refused because its first requester left the
    campaign runs when a member retries it."""
    fields: dict[str, Any] = {
        "status": JobStatus.QUEUED,
        "error": "",
        "message": "Queued",
        "progress": 0.0,
        "queued_at": timezone.now(),
        "started_at": None,
        "finished_at": None,
    }
    if reset_attempts:
        fields["attempts"] = 0
    if by is not None and any(f.name == "requested_by" for f in type(job)._meta.fields):
        fields["requested_by"] = by
    updated = (
        type(job)._default_manager.filter(pk=job.pk, status__in=list(statuses)).update(**fields)
    )
    if updated:
        job_dispatch(job)
    return bool(updated)


# A database that restarts or drops the connection mid-job: the row is handed back and the task
# retried once the database answers, instead of waiting for the lease to run out.
DATABASE_GONE = (OperationalError, InterfaceError)


def job_task_run(task: Any, runner: Callable[..., Claim], model: type[Job], job_id: int) -> None:
    """The body of every job task: run the service; when another delivery holds the row, retry
    after its lease; when the database went away part-way, give back the row this delivery
    claimed and retry soon (the claim counts the attempt, so a job that keeps losing its
    database still stops at the attempt cap)."""
    token = _claimed.set(None)
    try:
        claim = runner(job_id=job_id)
    except DATABASE_GONE as exc:
        logger.warning("%s %s lost its database connection: %s", model.__name__, job_id, exc)
        claimed = _claimed.get() == (model._meta.label, job_id)
        connections.close_all()  # the next query opens a fresh connection
        if claimed:
            _hand_back_after_database_loss(model, job_id)
        raise task.retry(countdown=settings.JOB_DATABASE_RETRY_SECONDS, exc=exc) from exc
    finally:
        _claimed.reset(token)
    if claim.retry_in is not None:
        raise task.retry(countdown=claim.retry_in)


def _hand_back_after_database_loss(model: type[Job], job_id: int, *, wait: float = 30.0) -> None:
    """Put the row this delivery holds back to queued, waiting a little for the database to
    answer again (a restart takes seconds). If it stays away longer, the row keeps its lease and
    the retry or the sweeper picks it up once the lease runs out."""
    deadline = time.monotonic() + wait
    while True:
        try:
            model._default_manager.filter(pk=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED,
                lease_expires_at=None,
                message="The database connection was lost; retrying",
            )
            return
        except DATABASE_GONE:
            connections.close_all()
            if time.monotonic() >= deadline:
                logger.warning("%s %s stays running until its lease ends", model.__name__, job_id)
                return
            time.sleep(1.0)


class ProgressReporter:
    """Writes progress to the job row at most every ``interval`` seconds; each write renews the
    lease, so a long job that is still making progress is never taken for a lost one."""

    def __init__(self, job: Job, *, interval: float = 1.0) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0

    def __call__(self, fraction: float, message: str = "", *, force: bool = False) -> bool:
        """Report progress; returns False when the job was cancelled meanwhile."""
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return True
        self._last = now
        updated = (
            type(self.job)
            ._default_manager.filter(pk=self.job.pk, status=JobStatus.RUNNING)
            .update(
                progress=max(0.0, min(1.0, fraction)),
                message=message[:300],
                lease_expires_at=timezone.now() + _lease(),
            )
        )
        return bool(updated)


class PhaseTimer:
    """Per-phase wall times (decode, render, store…), logged and kept on the job row."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.job.timings = {}

    def phase(self, name: str) -> _Phase:
        return _Phase(self, name)


class _Phase:
    def __init__(self, timer: PhaseTimer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.start
        timings = self.timer.job.timings
        timings[self.name] = round(timings.get(self.name, 0.0) + elapsed, 4)


# Exception classes, one or a tuple, as ``except`` takes them.
Errors = type[BaseException] | tuple[type[BaseException], ...]

# After a retryable failure (storage down) the row goes back to the queue and the task retries
# after this pause; the claim counted the attempt, so the attempt cap still applies.
RELEASE_RETRY_SECONDS = 30.0


class JobRun(Generic[J]):
    """What the body of a ``*_run`` works with inside ``job_running``: the claimed row, its
    progress reporter and phase timer, and ``result``, the Claim the run returns."""

    def __init__(self, job: J | None, claim: Claim) -> None:
        self.claimed = claim.claimed
        self.result = claim
        self._job = job if claim.claimed else None
        if self._job is not None:
            self.report = ProgressReporter(self._job)
            self.timer = PhaseTimer(self._job)

    @property
    def job(self) -> J:
        assert self._job is not None, "only a claimed run has a job to work on"
        return self._job

    def phase(self, name: str) -> _Phase:
        return self.timer.phase(name)

    def finish(self, *, output_key: str = "", message: str = "Done") -> None:
        job = self.job
        job_finish(job, output_key=output_key, message=message)
        logger.info("%s %s done timings=%s", type(job).__name__, job.pk, job.timings)

    def fail(self, error: str) -> Claim:
        """Fail the job with a message for the person; returns the Claim the run returns."""
        job_fail(self.job, error)
        self.result = Claim(False)
        return self.result

    def stop(self) -> Claim:
        """End quietly (the job was cancelled meanwhile); returns the Claim the run returns."""
        self.result = Claim(False)
        return self.result


@contextmanager
def job_running(
    model: type[J],
    job_id: int,
    *,
    failure: str,
    expected: Mapping[Errors, str] | None = None,
    retry: Mapping[Errors, str] | None = None,
    cancelled: Errors = (),
    held: J | None = None,
) -> Iterator[JobRun[J]]:
    """Claim the job and run the body with it; what every ``*_run`` does around its work::

        with job_running(PreviewJob, job_id, failure="Could not make previews: {exc}") as run:
            if not run.claimed:
                return run.result  # gone, done, refused, or held by another delivery
            ...
            run.finish(message="Previews ready")
        return run.result

    An exception from the body ends the run here: a lost database connection goes on to
    ``job_task_run``, which hands the row back and retries; ``cancelled`` ends quietly; an
    ``expected`` one fails the job with its message (``{exc}`` is the error); a ``retry`` one
    puts the row back in the queue with its message and the task retries after a pause; any
    other is logged with its traceback and fails the job with ``failure``. Messages are shown to
    the person. ``held`` is a row this worker created already running, so there is nothing to
    claim (the GPU worker's export from memory)."""
    if held is not None:
        job: J | None
        job, claim = held, Claim(True)
    else:
        job, claim = job_claim(model, job_id)
    run = JobRun(job, claim)
    if not run.claimed:
        yield run
        return
    try:
        yield run
    except DATABASE_GONE:
        raise  # job_task_run gives the row back and retries
    except cancelled:
        logger.info("%s %s cancelled", model.__name__, job_id)
        run.stop()
    except Exception as exc:
        for errors, message in (expected or {}).items():
            if isinstance(exc, errors):
                run.fail(message.format(exc=exc))
                return
        # An object store that cannot be reached is an outage for every kind of job: the row
        # goes back to the queue (as a kind's own ``retry`` errors do) instead of failing after
        # one attempt with "Could not connect to the endpoint URL".
        retries = {**(retry or {}), STORAGE_OUTAGE: STORAGE_RETRYING} if STORAGE_OUTAGE else retry
        for errors, message in (retries or {}).items():
            if isinstance(exc, errors):
                logger.warning("%s %s will retry: %s", model.__name__, job_id, exc)
                job_release(run.job, message.format(exc=exc))
                run.result = Claim(False, retry_in=RELEASE_RETRY_SECONDS)
                return
        logger.exception("%s %s failed", model.__name__, job_id)
        run.fail(failure.format(exc=exc))


def sweep_jobs(*, stale_queued_after: timedelta | None = None) -> dict[str, int]:
    """Re-publish jobs whose message may be lost: queued for too long (the web process died
    between commit and publish, or the broker lost its data) or running with an expired lease
    (the worker died). Jobs over the attempt cap fail with a clear reason."""
    now = timezone.now()
    stale_queued_after = stale_queued_after or timedelta(minutes=5)
    counts = {"republished": 0, "requeued": 0, "failed": 0}
    for kind in job_kinds():
        manager = kind.model._default_manager
        for job in manager.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now).only(
            "pk", "attempts"
        ):
            if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                job_fail(job, f"Gave up after {job.attempts} attempts (the worker kept stopping).")
                counts["failed"] += 1
                continue
            if manager.filter(pk=job.pk, status=JobStatus.RUNNING, lease_expires_at__lt=now).update(
                status=JobStatus.QUEUED, queued_at=now, message="Re-queued after a lost worker"
            ):
                job_publish(job)
                counts["requeued"] += 1
        stale = manager.filter(status=JobStatus.QUEUED, queued_at__lt=now - stale_queued_after)
        for job in stale.only("pk"):
            # Bump queued_at first so two sweepers (or two beats) do not publish it twice in a row.
            if manager.filter(
                pk=job.pk, status=JobStatus.QUEUED, queued_at__lt=now - stale_queued_after
            ).update(queued_at=now):
                job_publish(job)
                counts["republished"] += 1
    if any(counts.values()):
        logger.info("job sweep %s", counts)
    return counts
