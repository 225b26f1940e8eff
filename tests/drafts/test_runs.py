"""The preview job's run (apps.drafts.runs): renditions, redelivery, missing files, storage."""

from django.core.files.storage import default_storage

from apps.core.models import JobStatus
from apps.drafts import hooks
from apps.drafts.models import PreviewJob, Rendition
from apps.drafts.runs import draft_preview_run
from tests.factories import make_draft


def test_the_preview_task_makes_renditions_and_finishes_its_job(batch):
    draft = make_draft(batch)
    job = draft.preview_job
    from apps.drafts.tasks import draft_preview_task

    draft_preview_task.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.progress == 1.0
    assert set(job.timings) == {"read", "render", "store", "listeners"}
    names = set(Rendition.objects.filter(draft=draft).values_list("name", flat=True))
    assert names == {"thumb", "preview"}
    for r in Rendition.objects.filter(draft=draft):
        assert default_storage.exists(r.file_key)


def test_a_second_delivery_of_a_done_preview_job_is_a_no_op(batch):
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    keys = list(Rendition.objects.values_list("file_key", flat=True))
    claim = draft_preview_run(job_id=draft.preview_job.pk)
    assert not claim.claimed and claim.retry_in is None
    assert list(Rendition.objects.values_list("file_key", flat=True)) == keys
    assert PreviewJob.objects.get().attempts == 1


def test_a_preview_job_whose_draft_is_gone_returns_quietly(batch):
    draft = make_draft(batch)
    job_id = draft.preview_job.pk
    draft.delete()
    assert draft_preview_run(job_id=job_id).claimed is False


def test_a_missing_original_fails_the_job_with_a_clear_error(batch):
    draft = make_draft(batch)
    default_storage.delete(draft.file_key)
    draft_preview_run(job_id=draft.preview_job.pk)
    job = PreviewJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Could not make previews")


def test_a_preview_job_goes_back_to_the_queue_when_storage_is_down(batch, mocker):
    draft = make_draft(batch)
    mocker.patch.object(default_storage, "open", side_effect=OSError("S3 endpoint unavailable"))
    claim = draft_preview_run(job_id=draft.preview_job.pk)
    assert claim.retry_in == 30.0
    job = PreviewJob.objects.get()
    assert job.status == JobStatus.QUEUED
    assert "Storage unavailable" in job.message
    mocker.stopall()
    assert draft_preview_run(job_id=job.pk).claimed
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)


def test_the_preview_job_tells_its_listeners_and_survives_a_broken_one(batch, monkeypatch):
    seen = []

    def broken(draft):
        seen.append(draft.pk)
        raise RuntimeError("listener bug")

    monkeypatch.setattr(hooks, "_ON_PREVIEWS_READY", [broken])
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    job = PreviewJob.objects.get(pk=draft.preview_job.pk)
    assert seen == [draft.pk]
    assert job.status == JobStatus.DONE
    assert Rendition.objects.filter(draft=draft).count() >= 2
