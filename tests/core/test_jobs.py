from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from apps.checks.models import CheckJob
from apps.core.jobs import (
    RELEASE_RETRY_SECONDS,
    Claim,
    ProgressReporter,
    job_claim,
    job_create,
    job_finish,
    job_get_or_create,
    job_requeue,
    job_running,
    job_task_run,
    sweep_jobs,
)
from apps.core.models import JobStatus
from apps.drafts.models import PreviewJob
from tests.factories import make_draft


def _job(batch) -> PreviewJob:
    return make_draft(batch).preview_job


def test_claiming_a_queued_job_marks_it_running_and_counts_the_attempt(batch):
    job, claim = job_claim(PreviewJob, _job(batch).pk)
    assert claim.claimed
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert job.lease_expires_at > timezone.now()


def test_a_second_delivery_while_the_first_runs_is_told_to_retry_later(batch):
    job = _job(batch)
    job_claim(PreviewJob, job.pk)
    _, claim = job_claim(PreviewJob, job.pk)
    assert not claim.claimed
    assert claim.retry_in and claim.retry_in > 5
    assert PreviewJob.objects.get().attempts == 1


def test_a_running_job_with_an_expired_lease_can_be_claimed_again(batch):
    job = _job(batch)
    job_claim(PreviewJob, job.pk)
    PreviewJob.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    job, claim = job_claim(PreviewJob, job.pk)
    assert claim.claimed and job.attempts == 2


def test_a_job_over_the_attempt_cap_fails_with_a_clear_reason(batch, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = _job(batch)
    PreviewJob.objects.update(
        status=JobStatus.RUNNING, attempts=2, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _, claim = job_claim(PreviewJob, job.pk)
    job.refresh_from_db()
    assert not claim.claimed
    assert job.status == JobStatus.FAILED
    assert "Gave up after 2 attempts" in job.error


def test_finishing_twice_reports_done_only_once(batch):
    job, _ = job_claim(PreviewJob, _job(batch).pk)
    assert job_finish(job) is True
    assert job_finish(job) is False


def test_progress_is_throttled_and_renews_the_lease(batch):
    job, _ = job_claim(PreviewJob, _job(batch).pk)
    PreviewJob.objects.update(lease_expires_at=timezone.now())
    report = ProgressReporter(job, interval=60)
    assert report(0.5, "half", force=True)
    assert report(0.9, "throttled")  # inside the interval: not written
    job.refresh_from_db()
    assert job.progress == 0.5 and job.message == "half"
    assert job.lease_expires_at > timezone.now() + timedelta(seconds=60)


def test_progress_reports_a_cancelled_job_so_the_worker_can_stop(batch):
    job, _ = job_claim(PreviewJob, _job(batch).pk)
    PreviewJob.objects.update(status=JobStatus.CANCELLED)
    assert ProgressReporter(job)(0.3, force=True) is False


def test_retry_requeues_a_failed_job_and_dispatches_it(
    batch, mocker, django_capture_on_commit_callbacks
):
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    job = _job(batch)
    PreviewJob.objects.update(status=JobStatus.FAILED, attempts=3, error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        assert job_requeue(job)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.QUEUED, 0, "")
    send.assert_called_once()


def test_requeue_takes_a_done_job_only_when_asked_and_never_a_running_one(batch, mocker):
    mocker.patch("apps.core.jobs.current_app.send_task")
    job, _ = job_claim(PreviewJob, _job(batch).pk)
    assert not job_requeue(job, statuses=(JobStatus.DONE, JobStatus.FAILED))  # running
    job_finish(job)
    assert not job_requeue(job)  # done is not a retry
    assert job_requeue(job, statuses=(JobStatus.DONE,))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == (JobStatus.QUEUED, 0, None)


def test_the_sweeper_republishes_jobs_whose_message_was_lost(batch, mocker):
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    job = _job(batch)
    PreviewJob.objects.update(queued_at=timezone.now() - timedelta(minutes=10))
    assert sweep_jobs()["republished"] == 1
    send.assert_called_once_with(
        "apps.drafts.tasks.draft_preview_task", args=[job.pk], queue="default"
    )
    assert sweep_jobs()["republished"] == 0  # its queued_at was bumped


def test_the_sweeper_requeues_running_jobs_whose_worker_died(batch, mocker):
    mocker.patch("apps.core.jobs.current_app.send_task")
    job = _job(batch)
    PreviewJob.objects.update(
        status=JobStatus.RUNNING, attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=5)
    )
    assert sweep_jobs()["requeued"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


class _Retry(Exception):
    pass


class _Task:
    """Stands in for a bound Celery task: records the retry it was asked for."""

    def __init__(self) -> None:
        self.countdown: float | None = None

    def retry(self, *, countdown: float, exc: BaseException | None = None) -> _Retry:
        self.countdown = countdown
        return _Retry()


@pytest.fixture
def close_all(mocker):
    """The real close would end the test's own transaction; the live suite runs it for real."""
    return mocker.patch("apps.core.jobs.connections.close_all")


def test_a_job_that_loses_its_database_mid_run_is_handed_back_and_retried_soon(
    batch, settings, close_all
):
    settings.JOB_DATABASE_RETRY_SECONDS = 7
    job = _job(batch)

    def runner(*, job_id: int):
        job_claim(PreviewJob, job_id)
        raise OperationalError("server closed the connection unexpectedly")

    task = _Task()
    with pytest.raises(_Retry):
        job_task_run(task, runner, PreviewJob, job.pk)
    job.refresh_from_db()
    assert task.countdown == 7
    assert (job.status, job.attempts, job.lease_expires_at) == (JobStatus.QUEUED, 1, None)
    assert "database connection was lost" in job.message
    close_all.assert_called()  # the next query opens a fresh connection
    claimed, claim = job_claim(PreviewJob, job.pk)  # the retry runs it straight away
    assert claim.claimed and claimed.attempts == 2


def test_a_delivery_that_lost_the_database_before_claiming_leaves_the_row_to_its_holder(
    batch, close_all
):
    job = _job(batch)
    job_claim(PreviewJob, job.pk)  # another worker holds it

    def runner(*, job_id: int):
        raise InterfaceError("connection already closed")

    with pytest.raises(_Retry):
        job_task_run(_Task(), runner, PreviewJob, job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.lease_expires_at is not None


def test_a_job_held_by_another_delivery_is_retried_after_that_lease(batch):
    job = _job(batch)
    job_claim(PreviewJob, job.pk)
    task = _Task()
    with pytest.raises(_Retry):
        job_task_run(task, lambda *, job_id: job_claim(PreviewJob, job_id)[1], PreviewJob, job.pk)
    assert task.countdown is not None and task.countdown > 5


def test_a_created_job_is_queued_and_published_only_after_commit(
    batch, mocker, django_capture_on_commit_callbacks
):
    draft = make_draft(batch)
    PreviewJob.objects.filter(draft=draft).delete()
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_create(PreviewJob, draft=draft)
        send.assert_not_called()
    assert (job.status, job.message) == (JobStatus.QUEUED, "Queued")
    assert job.queued_at is not None
    for callback in callbacks:
        callback()
    send.assert_called_once_with(
        "apps.drafts.tasks.draft_preview_task", args=[job.pk], queue="default"
    )


def test_get_or_create_publishes_a_new_job_and_leaves_an_existing_one_alone(
    batch, mocker, django_capture_on_commit_callbacks
):
    draft = make_draft(batch)
    CheckJob.objects.filter(draft=draft).delete()
    send = mocker.patch("apps.core.jobs.current_app.send_task")
    with django_capture_on_commit_callbacks(execute=True):
        job, created = job_get_or_create(CheckJob, draft=draft)
    assert created and job.message == "Queued"
    CheckJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        same, created = job_get_or_create(CheckJob, draft=draft)
    assert not created and same.pk == job.pk and same.status == JobStatus.DONE
    send.assert_called_once()


def _run(job_id: int, body, **handling) -> Claim:
    """A ``*_run`` shaped like the real ones, with ``body(run)`` as its work."""
    with job_running(PreviewJob, job_id, failure="Could not do it: {exc}", **handling) as run:
        if not run.claimed:
            return run.result
        body(run)
        run.finish(output_key="out", message="All done")
    return run.result


def test_a_claimed_run_reports_times_its_phases_and_finishes(batch):
    job = _job(batch)

    def body(run):
        with run.phase("work"):
            assert run.report(0.5, "Halfway", force=True)
        assert PreviewJob.objects.get().message == "Halfway"

    assert _run(job.pk, body) == Claim(True)
    job.refresh_from_db()
    assert (job.status, job.output_key, job.message) == (JobStatus.DONE, "out", "All done")
    assert set(job.timings) == {"work"}


def test_a_run_that_is_not_claimed_returns_the_claim_without_running_the_body(batch):
    job = _job(batch)
    job_claim(PreviewJob, job.pk)  # another delivery holds it
    body_ran = []
    claim = _run(job.pk, body_ran.append)
    assert not claim.claimed and claim.retry_in is not None  # the task retries after its lease
    assert body_ran == []
    assert _run(10**9, body_ran.append) == Claim(False)  # the row is gone
    assert body_ran == []


def test_an_error_in_the_body_fails_the_job_with_its_message(batch):
    job = _job(batch)

    def body(run):
        raise ValueError("the pixels are upside down")

    assert _run(job.pk, body) == Claim(False)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "Could not do it: the pixels are upside down"


def test_an_expected_error_fails_with_its_own_message_and_a_retryable_one_requeues(batch):
    job = _job(batch)

    def missing(run):
        raise FileNotFoundError("gone")

    assert _run(job.pk, missing, expected={FileNotFoundError: "The file is missing."}) == Claim(
        False
    )
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "The file is missing.")

    other = _job(batch)

    def storage_down(run):
        raise OSError("no space left on device")

    claim = _run(
        other.pk,
        storage_down,
        expected={FileNotFoundError: "The file is missing."},
        retry={OSError: "Storage unavailable, retrying: {exc}"},
    )
    assert claim == Claim(False, retry_in=RELEASE_RETRY_SECONDS)
    other.refresh_from_db()
    assert (other.status, other.lease_expires_at) == (JobStatus.QUEUED, None)
    assert other.message == "Storage unavailable, retrying: no space left on device"


def test_an_object_store_that_cannot_be_reached_sends_any_kind_of_job_back_to_the_queue(batch):
    from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

    outages = (
        EndpointConnectionError(endpoint_url="http://s3:9000/bucket/key"),
        ConnectionClosedError(endpoint_url="http://s3:9000/bucket/key"),
    )
    for outage in outages:
        job = _job(batch)

        def store(run, outage=outage):
            raise outage

        # No ``retry`` of its own: the kernel knows an unreachable store is worth a retry.
        assert _run(job.pk, store) == Claim(False, retry_in=RELEASE_RETRY_SECONDS)
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)
        assert job.message.startswith("Storage unavailable, retrying: ")

    refused = _job(batch)

    def denied(run):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    assert _run(refused.pk, denied) == Claim(False)  # a store that answered "no" is not down
    refused.refresh_from_db()
    assert refused.status == JobStatus.FAILED


def test_a_cancelled_run_ends_quietly_without_failing_the_job(batch):
    job = _job(batch)

    class Cancelled(Exception):
        pass

    def body(run):
        PreviewJob.objects.update(status=JobStatus.CANCELLED)
        raise Cancelled

    assert _run(job.pk, body, cancelled=Cancelled) == Claim(False)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.CANCELLED, "")


def test_a_run_that_loses_its_database_is_handed_back_by_the_task(batch, settings, close_all):
    settings.JOB_DATABASE_RETRY_SECONDS = 7
    job = _job(batch)

    def body(run):
        raise OperationalError("server closed the connection unexpectedly")

    task = _Task()
    with pytest.raises(_Retry):
        job_task_run(task, lambda *, job_id: _run(job_id, body), PreviewJob, job.pk)
    job.refresh_from_db()
    assert task.countdown == 7
    assert (job.status, job.lease_expires_at, job.error) == (JobStatus.QUEUED, None, "")
    assert "database connection was lost" in job.message


def test_a_row_the_worker_already_holds_runs_without_a_claim(batch):
    job, _ = job_claim(PreviewJob, _job(batch).pk)
    with job_running(PreviewJob, job.pk, failure="{exc}", held=job) as run:
        assert run.claimed and run.job is job
        run.finish()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)  # no second claim
