import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.drafts.models import Draft, DraftReference
from apps.drafts.runs import draft_preview_run
from tests.factories import make_draft
from tests.images import EXPECTED, HOSTILE_CASES, png_bytes


def _upload(client, batch, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("drafts:upload-file", args=[batch.pk]),
        {"file": SimpleUploadedFile(name, data)},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_uploading_each_hostile_file_gives_a_per_file_answer_never_a_500(cast, batch, case):
    name, data = HOSTILE_CASES[case]()
    response = _upload(cast.client("creator"), batch, name, data)
    body = response.json()
    if EXPECTED[case] == "ok":
        assert response.status_code == 200 and body["status"] == "added"
        assert body["url"] == reverse("drafts:detail", args=[body["draft_id"]])
    else:
        assert response.status_code == 422
        assert body["status"] == "rejected" and body["code"] == EXPECTED[case]
        assert body["message"]


def test_the_no_javascript_form_uploads_many_files_and_lists_each_result(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [
        SimpleUploadedFile("one.png", png_bytes(color=(1, 1, 1))),
        SimpleUploadedFile("broken.png", HOSTILE_CASES["truncated_png"]()[1]),
        SimpleUploadedFile("two.png", png_bytes(color=(2, 2, 2))),
    ]
    page = cast.client("creator").post(
        reverse("drafts:upload", args=[cast.campaign.pk]),
        {"new_batch_name": "Round 2", "files": files},
    )
    assert page.status_code == 200
    assert page.text.count("status-added") == 2 and page.text.count("status-rejected") == 1
    assert "truncated or corrupt" in page.text
    drafts = Draft.objects.filter(batch__name="Round 2").order_by("pk")
    assert drafts.count() == 2
    # Each added file links to its draft; the summary counts the whole post.
    for draft in drafts:
        assert f'<a class="name" href="{reverse("drafts:detail", args=[draft.pk])}">' in page.text
    assert "2 added, 0 duplicate, 1 not accepted (see below)" in page.text


def test_a_duplicate_answers_with_the_link_to_the_draft_already_in_the_campaign(cast, batch):
    client = cast.client("creator")
    first = _upload(client, batch, "can.png", png_bytes(color=(3, 4, 5))).json()
    response = _upload(client, batch, "can-again.png", png_bytes(color=(3, 4, 5)))
    body = response.json()
    assert response.status_code == 200 and body["status"] == "duplicate"
    assert body["draft_id"] == first["draft_id"]
    assert body["url"] == reverse("drafts:detail", args=[first["draft_id"]])
    # Whoever may upload to the batch may open that draft: it is in the same campaign.
    assert client.get(body["url"]).status_code == 200


def test_a_batch_from_another_campaign_cannot_be_chosen_on_the_upload_form(cast):
    from tests.factories import BatchFactory

    foreign = BatchFactory(campaign=cast.other_campaign)
    response = cast.client("creator").post(
        reverse("drafts:batch-create", args=[cast.campaign.pk]), {"batch": foreign.pk}
    )
    assert response.status_code == 400


def test_the_no_javascript_upload_form_answers_a_forged_batch_with_a_400_that_says_why(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import BatchFactory

    foreign = BatchFactory(campaign=cast.other_campaign)
    page = cast.client("creator").post(
        reverse("drafts:upload", args=[cast.campaign.pk]),
        {"batch": foreign.pk, "files": [SimpleUploadedFile("one.png", png_bytes())]},
    )
    assert page.status_code == 400
    assert "Select a valid choice" in page.text
    assert not Draft.objects.exists() and not foreign.drafts.exists()


def test_the_batch_grid_filters_by_decision_and_shows_counts(cast, batch):
    kept = make_draft(batch, name="kept.png")
    make_draft(batch, name="open.png")
    Draft.objects.filter(pk=kept.pk).update(decision="keep")
    client = cast.client("reviewer")
    page = client.get(reverse("drafts:batch", args=[batch.pk]) + "?decision=keep")
    assert "kept.png" in page.text and "open.png" not in page.text
    assert 'class="filter filter-undecided"' in page.text


def test_the_batch_grid_runs_a_constant_number_of_queries(cast, batch, django_assert_num_queries):
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])
    for _ in range(2):
        draft_preview_run(job_id=make_draft(batch).preview_job.pk)
    client.get(url)
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Compare like with like: both pages computed without cached counts.
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(6):
        draft_preview_run(job_id=make_draft(batch).preview_job.pk)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_draft_page_shows_prompt_facts_checklist_and_neighbours(cast, batch):
    first = make_draft(batch, name="first.png")
    second = make_draft(batch, name="second.png")
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[first.pk]))
    assert page.status_code == 200
    assert "Quality check" in page.text and "Hard-to-repair areas" in page.text
    assert reverse("drafts:detail", args=[second.pk]) in page.text
    assert "1 / 2" in page.text


def test_producers_read_the_draft_page_without_decision_buttons(cast, batch):
    draft = make_draft(batch)
    page = cast.client("producer").get(reverse("drafts:detail", args=[draft.pk]))
    assert page.status_code == 200
    assert 'value="keep"' not in page.text and "can read reviews but not decide" in page.text


def test_images_are_served_to_members_with_nosniff_and_private_caching(cast, batch):
    draft = make_draft(batch)
    draft_preview_run(job_id=draft.preview_job.pk)
    response = cast.client("producer").get(reverse("drafts:image", args=[draft.pk, "thumb"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_before_previews_exist_the_original_is_shown(cast, batch):
    draft = make_draft(batch)
    response = cast.client("reviewer").get(reverse("drafts:image", args=[draft.pk, "preview"]))
    assert response["Content-Type"] == "image/png"


def test_an_outsider_gets_404_for_a_draft_image(cast, batch):
    draft = make_draft(batch)
    assert (
        cast.client("outsider")
        .get(reverse("drafts:image", args=[draft.pk, "original"]))
        .status_code
        == 404
    )


def test_the_original_downloads_as_an_attachment_with_a_server_made_name(cast, batch):
    draft = make_draft(batch, name='evil"; filename="x.html.png')
    response = cast.client("producer").get(reverse("drafts:download", args=[draft.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.png"'


def test_a_creator_adds_a_reference_link_and_a_reference_image(cast, batch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    draft = make_draft(batch)
    client = cast.client("creator")
    url = reverse("drafts:reference-add", args=[draft.pk])
    client.post(url, {"url": "https://example.com/moodboard"})
    client.post(url, {"file": SimpleUploadedFile("ref.png", png_bytes(color=(9, 9, 9)))})
    client.post(url, {"file": SimpleUploadedFile("ref.svg", b"<svg/>")})
    refs = list(DraftReference.objects.filter(draft=draft))
    assert [r.url for r in refs] == ["https://example.com/moodboard", ""]
    response = client.get(reverse("drafts:reference-file", args=[refs[1].pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        cast.client("outsider").get(reverse("drafts:reference-file", args=[refs[1].pk])).status_code
        == 404
    )


def test_import_drafts_reads_a_generator_folder_with_sidecars(cast, tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(png_bytes(color=(5, 6, 7)))
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "prompt": "a can on ice",
                "seed": 42,
                "model": "flux",
                "references": ["https://ex.com/r", "ref.png", "../../x.png"],
            }
        )
    )
    (tmp_path / "ref.png").write_bytes(png_bytes(color=(8, 8, 8)))
    (tmp_path / "b.jpg").write_bytes(b"not really a jpeg")
    (tmp_path / "notes.md").write_text("hello")
    call_command(
        "import_drafts",
        str(tmp_path),
        "--campaign",
        cast.campaign.name,
        "--user",
        "creator",
        "--batch",
        "Generator run 7",
    )
    out = capsys.readouterr().out
    assert "1 added" not in out  # ref.png is an image too: it is imported as a draft as well
    a = Draft.objects.get(original_name="a.png")
    assert (a.prompt, a.seed, a.model_name) == ("a can on ice", 42, "flux")
    assert a.batch.name == "Generator run 7" and a.uploaded_by == cast.creator
    assert {r.url or r.name for r in a.references.all()} == {"https://ex.com/r", "ref.png"}
    assert "../../x.png" in out  # the escaping reference is reported, not followed
    assert "rejected  b.jpg" in out
    assert "skipped  notes.md" in out


def test_a_polyglot_is_served_as_an_image_that_browsers_will_not_sniff(cast, batch):
    payload = b"<html><script>alert(1)</script></html>"
    response = _upload(cast.client("creator"), batch, "x.png", png_bytes() + payload)
    image = cast.client("reviewer").get(
        reverse("drafts:image", args=[response.json()["draft_id"], "original"])
    )
    body = b"".join(image.streaming_content)
    assert payload not in body
    assert image["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image["Content-Security-Policy"]


def test_an_upload_during_a_storage_outage_answers_503_with_a_message(cast, batch, mocker):
    from django.core.files.storage import default_storage

    mocker.patch.object(default_storage, "save", side_effect=OSError("disk full"))
    response = _upload(cast.client("creator"), batch, "x.png", png_bytes())
    assert response.status_code == 503
    assert response.json()["code"] == "storage"


def test_a_large_batch_is_shown_a_page_at_a_time(cast, batch, settings):
    from apps.drafts import views

    for i in range(5):
        make_draft(batch, name=f"d{i}.png")
    original, views.GRID_PAGE_SIZE = views.GRID_PAGE_SIZE, 2
    try:
        client = cast.client("reviewer")
        first = client.get(reverse("drafts:batch", args=[batch.pk]))
        last = client.get(reverse("drafts:batch", args=[batch.pk]) + "?page=3")
    finally:
        views.GRID_PAGE_SIZE = original
    assert first.text.count('class="tile ') == 2
    assert "Page 1 of 3" in first.text and 'rel="next"' in first.text
    assert last.text.count('class="tile ') == 1 and "d4.png" in last.text


def test_an_oversized_upload_is_refused_before_its_body_is_read(cast, batch, settings):
    settings.DRAFTROOM_MAX_UPLOAD_BYTES = 1024
    client = cast.client("creator")
    big = png_bytes(size=(400, 400), color=(3, 3, 3)) + b"\0" * 200_000
    response = _upload(client, batch, "big.png", big)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not batch.drafts.exists()


def test_an_upload_whose_content_length_is_not_a_number_gets_a_clear_400(cast, batch):
    client = cast.client("creator")
    url = reverse("drafts:upload-file", args=[batch.pk])
    response = client.post(url, {"file": ""}, CONTENT_LENGTH="twelve")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert not batch.drafts.exists()


def test_the_draft_page_lists_every_pass_of_a_multi_pass_graph_folded_away(cast, batch):
    sample = Path(__file__).resolve().parent.parent / "workers" / "genmeta_samples"
    draft = make_draft(batch, data=(sample / "unclip_2pass_cropped.png").read_bytes())
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[draft.pk]))
    assert "<summary>2 passes, every prompt</summary>" in page.text
    assert "Pass 2 · dpmpp_sde, node 41" in page.text
    assert "beautiful scenery landscape outdoors mountains" in page.text
    assert "cardosAnimated_v20.safetensors · seed 119080905858220" in page.text


def test_the_preview_state_shows_only_while_running_or_failed(cast, batch):
    from apps.core.models import JobStatus
    from apps.drafts.models import PreviewJob

    draft = make_draft(batch)
    client = cast.client("reviewer")
    url = reverse("drafts:status", args=[draft.pk])
    assert "Previews: Queued" in client.get(url).text
    draft_preview_run(job_id=draft.preview_job.pk)
    assert "Previews:" not in client.get(url).text  # "Previews: Done" tells a reviewer nothing
    assert "Previews:" not in client.get(reverse("drafts:detail", args=[draft.pk])).text
    PreviewJob.objects.filter(draft=draft).update(status=JobStatus.FAILED, error="broken file")
    assert "Previews: Failed" in client.get(url).text
