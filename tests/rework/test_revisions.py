"""Edits as revisions of a draft (apps.drafts.services.draft_revision_add), exercised here
with the rework feature that uses them."""

import pytest
from django.core.files.storage import default_storage

from apps.core.errors import Refusal
from apps.drafts.models import Rendition
from apps.drafts.runs import draft_preview_run
from apps.drafts.services import draft_revision_add
from tests.factories import make_draft
from tests.images import png_bytes


def test_a_revision_gets_fresh_previews_and_the_old_ones_are_deleted_after_commit(
    batch, django_capture_on_commit_callbacks
):
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    old_keys = list(Rendition.objects.filter(draft=draft).values_list("file_key", flat=True))
    assert old_keys and all(default_storage.exists(k) for k in old_keys)
    with django_capture_on_commit_callbacks(execute=True):
        draft_revision_add(
            draft=draft, uploaded_by=None, name="r.png", upload=png_bytes(size=(120, 80))
        )
    assert not any(default_storage.exists(k) for k in old_keys)
    draft_preview_run(job_id=draft.preview_job.pk)
    draft.preview_job.refresh_from_db()
    assert draft.preview_job.status == "done"
    preview = Rendition.objects.get(draft=draft, name="preview")
    assert (preview.width, preview.height) == (120, 80)
    assert draft.sha256[:16] in preview.file_key


def test_a_file_another_draft_already_has_is_refused(batch):
    draft, other = make_draft(batch), make_draft(batch, name="other.png")
    with default_storage.open(other.file_key, "rb") as fh:
        data = fh.read()
    with pytest.raises(Refusal, match=r"already in the campaign as “other\.png”"):
        draft_revision_add(draft=draft, uploaded_by=None, name="x.png", upload=data)
    draft.refresh_from_db()
    assert draft.revision == 1 and not draft.revisions.exists()


def test_going_back_to_an_earlier_file_is_a_new_revision(batch):
    draft = make_draft(batch)
    with default_storage.open(draft.file_key, "rb") as fh:
        original = fh.read()
    draft_revision_add(draft=draft, uploaded_by=None, name="b.png", upload=png_bytes())
    draft_revision_add(draft=draft, uploaded_by=None, name="a.png", upload=original)
    assert [r.number for r in draft.revisions.all()] == [1, 2, 3]
    assert draft.revision == 3 and draft.sha256 == draft.revisions.get(number=1).sha256


def test_an_edit_runs_the_automatic_checks_again_on_the_new_file(batch):
    from apps.checks.models import CheckJob
    from apps.checks.runs import draft_checks_run

    draft = make_draft(batch, data=png_bytes(size=(96, 64), color=(10, 80, 120)))
    draft_checks_run(job_id=CheckJob.objects.get(draft=draft).pk)
    assert CheckJob.objects.get(draft=draft).status == "done"
    draft_revision_add(
        draft=draft, uploaded_by=None, name="r.png", upload=png_bytes(size=(640, 480))
    )
    job = CheckJob.objects.get(draft=draft)
    assert job.status == "queued"
    draft_checks_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done"
