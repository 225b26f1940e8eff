from __future__ import annotations

from django.core.management import call_command

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.core.models import JobStatus
from tests.factories import make_draft


def test_queue_checks_fills_in_drafts_without_checks_and_reruns_only_when_asked(
    batch, capsys, django_capture_on_commit_callbacks
):
    old = make_draft(batch, name="old.png")
    checked = make_draft(batch, name="checked.png")
    CheckJob.objects.filter(draft=old).delete()  # as if uploaded before the checks existed
    draft_checks_run(job_id=checked.check_job.pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("queue_checks", "--campaign", str(batch.campaign_id))
    assert "Queued the checks of 1 draft(s)." in capsys.readouterr().out
    assert CheckJob.objects.get(draft=old).status == JobStatus.QUEUED
    assert CheckJob.objects.get(draft=checked).status == JobStatus.DONE
    assert len(callbacks) == 1

    call_command("queue_checks", "--again")
    assert "Queued the checks of 1 draft(s)." in capsys.readouterr().out  # old one is queued
    assert CheckJob.objects.get(draft=checked).status == JobStatus.QUEUED
