"""Every odd file the intake accepts goes through every later stage without failing: previews,
automatic checks, channel exports and the (classical) upscale. A file that passes the door but
breaks a worker would fail its job with an error nobody can fix."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from apps.checks.models import CheckJob
from apps.checks.runs import draft_checks_run
from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft, PreviewJob
from apps.drafts.runs import draft_preview_run
from apps.drafts.services import draft_intake
from apps.exports.models import ChannelVersion
from apps.exports.runs import export_run
from apps.exports.services import export_queue, preset_defaults_ensure
from apps.upscales.runs import upscale_run
from apps.upscales.services import upscale_request
from tests.images import EXPECTED, HOSTILE_CASES

ACCEPTED = sorted(case for case, expected in EXPECTED.items() if expected == "ok")


def _decodes(key: str) -> tuple[int, int]:
    with default_storage.open(key, "rb") as fh, Image.open(io.BytesIO(fh.read())) as image:
        image.load()
        return image.size


@pytest.mark.parametrize("case", ACCEPTED)
def test_an_accepted_odd_file_goes_through_every_stage(cast, batch, case):
    preset_defaults_ensure()
    name, data = HOSTILE_CASES[case]()
    result = draft_intake(batch=batch, uploaded_by=cast.creator, name=name, upload=data)
    assert result.status == "added", result.message
    draft = result.draft

    draft_preview_run(job_id=PreviewJob.objects.get(draft=draft).pk)
    preview = PreviewJob.objects.get(draft=draft)
    assert preview.status == JobStatus.DONE, preview.error
    assert all(_decodes(r.file_key) for r in draft.renditions.all())

    draft_checks_run(job_id=CheckJob.objects.get(draft=draft).pk)
    checks = CheckJob.objects.get(draft=draft)
    assert checks.status == JobStatus.DONE, checks.error

    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    export = export_queue(draft=draft, by=cast.art_director)
    export_run(job_id=export.pk)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE, export.error
    for version in ChannelVersion.objects.filter(draft=draft):
        assert _decodes(version.file_key) == (version.width, version.height)

    upscale, _ = upscale_request(draft=draft, by=cast.art_director, model="classical", scale=2)
    upscale_run(job_id=upscale.pk)
    upscale.refresh_from_db()
    assert upscale.status == JobStatus.DONE, upscale.error
    assert _decodes(upscale.output_key) == (draft.width * 2, draft.height * 2)
