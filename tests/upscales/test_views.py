"""The upscale pages and posts, as each persona sees them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.upscales.models import UpscaleJob
from apps.upscales.runs import upscale_run
from apps.upscales.services import upscale_request
from tests.factories import make_draft
from tests.images import encode_png, pattern_image


@pytest.fixture
def kept(batch):
    draft = make_draft(batch, data=encode_png(pattern_image((40, 30))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def done_job(cast, kept):
    job, _ = upscale_request(draft=kept, by=cast.art_director, model="classical", scale=2)
    upscale_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    return job


def test_art_director_queues_an_upscale_from_the_draft_page(cast, kept):
    client = cast.client("art_director")
    page = client.get(reverse("drafts:detail", args=[kept.pk])).content.decode()
    assert 'id="upscales"' in page and "Queue upscale" in page
    response = client.post(
        reverse("upscales:create", args=[kept.pk]), {"model": "classical", "target": "3"}
    )
    assert response.status_code == 302
    job = UpscaleJob.objects.get(draft=kept)
    assert (job.model_name, job.scale, job.requested_by) == ("classical", 3.0, cast.art_director)


def test_a_custom_scale_and_fit_are_accepted(cast, kept):
    client = cast.client("art_director")
    url = reverse("upscales:create", args=[kept.pk])
    client.post(url, {"model": "classical", "target": "custom", "custom_scale": "2.5"})
    client.post(url, {"model": "classical", "target": "fit"})
    scales = sorted(UpscaleJob.objects.values_list("scale", flat=True))
    # The factory campaign targets square (1080/30 = 36 > 8 -> refused) and hero; so only 2.5.
    assert 2.5 in scales


def test_bad_input_gets_a_clear_message(cast, kept):
    client = cast.client("art_director")
    url = reverse("upscales:create", args=[kept.pk])
    response = client.post(
        url, {"model": "classical", "target": "custom"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and "Enter a scale" in response.json()["message"]
    response = client.post(url, {"model": "nope", "target": "2"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "Not queued" in response.json()["message"]


def test_an_undecided_draft_shows_why_it_cannot_be_upscaled(cast, batch):
    draft = make_draft(batch)
    page = cast.client("art_director").get(reverse("drafts:detail", args=[draft.pk]))
    assert "Upscaling opens once this draft is kept" in page.content.decode()
    response = cast.client("art_director").post(
        reverse("upscales:create", args=[draft.pk]),
        {"model": "classical", "target": "2"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 422 and "Only kept drafts" in response.json()["message"]


def test_a_reviewer_sees_results_but_no_queue_form(cast, done_job):
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[done_job.draft_id]))
    html = page.content.decode()
    assert "Queue upscale" not in html and "Download PNG" in html
    assert "Classical (Lanczos + sharpen, not neural)" in html and "not neural" in html


def test_the_status_fragment_shows_progress_and_cancel_while_running(cast, kept):
    job, _ = upscale_request(draft=kept, by=None, model="classical", scale=2)
    UpscaleJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, progress=0.4, message="4 of 10 tiles"
    )
    html = cast.client("art_director").get(reverse("upscales:status", args=[job.pk])).content
    html = html.decode()
    assert 'value="40"' in html and "4 of 10 tiles" in html and "Cancel" in html
    assert 'data-active="1"' in html


def test_result_page_opens_the_compare_component_at_fit_with_the_source_under_a_wipe(
    cast, done_job
):
    html = cast.client("producer").get(reverse("upscales:detail", args=[done_job.pk])).text
    component = html.split('class="cmp"')[1].split("</script>")[0]
    assert 'data-mode="wipe"' in component and 'data-zoom="fit"' in component
    assert reverse("drafts:image", args=[done_job.draft_id, "original"]) in component
    assert reverse("upscales:image", args=[done_job.pk]) in component
    assert ">Source</span>" in component and ">Upscaled ×2</span>" in component
    assert "40×30</span>" in component and "80×60</span>" in component
    assert "style=" not in component  # CSP: no inline styles; the script places the images
    # The result page is the comparison: its job card does not link to itself.
    assert "Compare at 100 %" not in html and ">Compare</a>" not in html


def test_the_panel_links_the_result_page_at_fit_and_at_100_percent(cast, done_job):
    panel = cast.client("producer").get(reverse("upscales:status", args=[done_job.pk])).text
    link = reverse("upscales:detail", args=[done_job.pk]) + "?zoom=100"
    assert f'href="{link}">Compare at 100 %' in panel
    fit = reverse("upscales:detail", args=[done_job.pk])
    assert f'href="{fit}">Compare</a>' in panel
    html = cast.client("producer").get(link).text
    assert 'data-zoom="100"' in html


def test_download_has_a_safe_server_made_name(cast, done_job):
    response = cast.client("creator").get(reverse("upscales:download", args=[done_job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="draft-{done_job.draft_id}-classical-x2.png"'
    )


def test_an_unfinished_upscale_has_no_file(cast, kept):
    job, _ = upscale_request(draft=kept, by=None, model="classical", scale=2)
    response = cast.client("art_director").get(reverse("upscales:image", args=[job.pk]))
    assert response.status_code == 404


def test_cancel_and_retry_from_the_page(cast, kept):
    job, _ = upscale_request(draft=kept, by=None, model="classical", scale=2)
    client = cast.client("art_director")
    assert client.post(reverse("upscales:cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    client.post(reverse("upscales:retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_batch_toolbar_queues_all_kept_drafts(cast, batch, kept):
    make_draft(batch)
    client = cast.client("art_director")
    grid = client.get(reverse("drafts:batch", args=[batch.pk])).content.decode()
    assert "Upscale 1 kept draft" in grid
    response = client.post(
        reverse("upscales:batch-create", args=[batch.pk]), {"model": "classical", "target": "2"}
    )
    assert response.status_code == 302
    assert list(UpscaleJob.objects.values_list("draft_id", flat=True)) == [kept.pk]


def test_reviewers_do_not_get_the_batch_toolbar(cast, batch, kept):
    grid = cast.client("reviewer").get(reverse("drafts:batch", args=[batch.pk])).content.decode()
    assert "Queue upscales" not in grid


def test_grid_badges_cost_one_query_for_the_whole_page(
    cast, batch, done_job, django_assert_num_queries
):
    from apps.upscales.panels import tile_badges

    drafts = [done_job.draft, make_draft(batch), make_draft(batch)]
    with django_assert_num_queries(1):
        badges = tile_badges(drafts)
    assert list(badges) == [done_job.draft_id]
    # Said in words, not a bare "×2"; the title names the model.
    assert ">upscaled ×2</span>" in str(badges[done_job.draft_id])
    assert 'title="Upscaled master ready, made by ' in str(badges[done_job.draft_id])


def test_the_fit_choice_names_the_preset_that_needs_the_most_and_lists_every_presets_need(
    cast, batch
):
    cast.campaign.target_channels = ["hero"]
    cast.campaign.save(update_fields=["target_channels"])
    draft = make_draft(batch, data=encode_png(pattern_image((1000, 1000))))
    Draft.objects.filter(pk=draft.pk).update(decision=Decision.KEEP)
    page = cast.client("art_director").get(reverse("drafts:detail", args=[draft.pk])).text
    assert "Fit the largest target channel — Hero banner 21:9 2520×1080 (×2.52)" in page
    assert "Hero banner 3:1 needs ×2.40. Hero banner 21:9 needs ×2.52." in page
