from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from apps.checks.models import CheckJob, CheckResult
from apps.checks.runs import draft_checks_run
from apps.core.models import JobStatus
from apps.drafts.models import Draft
from tests.checks.builders import scene, scene_png
from tests.factories import BatchFactory, make_draft
from tests.images import encode_jpeg


def _checked(batch, **kw) -> Draft:
    draft = make_draft(batch, **kw)
    draft_checks_run(job_id=draft.check_job.pk)
    return draft


def _tile_names(html: str) -> list[str]:
    return re.findall(r'<span class="name" title="([^"]+)"', html)


def test_the_draft_page_shows_every_check_above_the_decision_form(cast, batch):
    draft = _checked(batch, name="small.png", data=scene_png((512, 512)))
    page = cast.client("reviewer").get(reverse("drafts:detail", args=[draft.pk]))
    html = page.text
    assert page.status_code == 200
    assert html.index('id="checks-panel"') < html.index('id="review-form"')
    for key in ("softness", "blockiness", "noise", "resolution.hero", "crop.square", "colour.icc"):
        assert f'data-check="{key}"' in html
    assert "Hero banner 3:1 needs 2400 px wide: ×4.7 from this draft" in html
    # The two failing channel sizes are named; the warnings are in the quiet channel line.
    verdict = (
        '<span class="check-pill check-fail" id="checks-verdict" title="fail: Hero banner 3:1 '
        'resolution; fail: Hero banner 21:9 resolution">2 problems: Hero banner 3:1 resolution, '
        "Hero banner 21:9 resolution</span>"
    )
    assert verdict in html
    assert ">fits 0 of 3 channels</span>" in html
    assert "Run the checks again" in html
    assert "js/checks.js" in html


def test_a_producer_reads_the_checks_but_cannot_rerun_them(cast, batch):
    draft = _checked(batch, data=scene_png((400, 400)))
    html = cast.client("producer").get(reverse("drafts:detail", args=[draft.pk])).text
    assert 'data-check="softness"' in html
    assert "Run the checks again" not in html


def test_the_panel_says_the_checks_are_running_until_the_worker_is_done(cast, batch):
    draft = make_draft(batch, data=scene_png((400, 400)))
    client = cast.client("reviewer")
    fragment = client.get(reverse("checks:panel", args=[draft.pk])).text
    assert 'data-running="1"' in fragment and "Checking…" in fragment
    draft_checks_run(job_id=draft.check_job.pk)
    fragment = client.get(reverse("checks:panel", args=[draft.pk])).text
    assert 'data-running=""' in fragment and 'data-check="noise"' in fragment


def test_a_failed_run_is_shown_with_its_reason(cast, batch):
    draft = make_draft(batch, data=scene_png((300, 300)))
    CheckJob.objects.filter(draft=draft).update(
        status=JobStatus.FAILED, error="Could not check this file: broken"
    )
    html = cast.client("reviewer").get(reverse("checks:panel", args=[draft.pk])).text
    assert "The checks failed: Could not check this file: broken" in html


def test_the_panel_links_the_other_drafts_of_a_near_duplicate_set(cast, batch):
    first = _checked(batch, name="first.png", data=scene_png(seed=21))
    copy_image = scene(seed=21).resize((640, 640), Image.Resampling.LANCZOS)
    later = BatchFactory(campaign=cast.campaign, name="Round 2")
    copy = _checked(later, name="copy.jpg", data=encode_jpeg(copy_image, quality=85))
    html = cast.client("reviewer").get(reverse("drafts:detail", args=[first.pk])).text
    assert reverse("drafts:detail", args=[copy.pk]) in html
    assert "copy.jpg" in html and "Round 2" in html and "bits apart" in html
    # The 1024 px original is crisper than its 640 px copy, so the copy is not marked best.
    assert "sharpest of the set" not in html
    html = cast.client("reviewer").get(reverse("drafts:detail", args=[copy.pk])).text
    assert "sharpest of the set" in html and "this batch" not in html


def test_the_grid_shows_a_compact_badge_per_draft(cast, batch):
    _checked(batch, name="small.png", data=scene_png((512, 512)))
    make_draft(batch, name="waiting.png")
    html = cast.client("reviewer").get(reverse("drafts:batch", args=[batch.pk])).text
    badge = r'class="check-badge check-fail" title="fail: Hero banner 3:1 resolution'
    assert re.search(badge, html)
    assert '<span class="check-badge check-pending" title="Automatic checks are running"' in html
    assert 'id="check-controls"' in html and "js/checks-grid.js" in html


def test_placement_warnings_are_a_quiet_channel_line_not_a_problem(cast, batch):
    # 1024 px: the hero banners need ×2.3 and a crop (warnings), which the upscale and the
    # crop editor handle after the keep; nothing here needs a person before deciding.
    draft = _checked(batch, name="square.png", data=scene_png((1024, 1024), seed=61))
    assert draft.check_summary.warn_count > 0
    client = cast.client("reviewer")
    html = client.get(reverse("drafts:batch", args=[batch.pk])).text
    assert (
        '<span class="check-badge check-pass" title="No check needs a person">no problems' in html
    )
    fit = re.search(r'<span class="fit-chip" title="([^"]+)">fits 1 of 3 channels</span>', html)
    assert fit is not None and fit.group(1).endswith("for: Hero banner 3:1, Hero banner 21:9")
    page = client.get(reverse("drafts:detail", args=[draft.pk])).text
    assert '<span class="check-pill check-pass" id="checks-verdict"' in page
    assert ">no problems</span>" in page and ">fits 1 of 3 channels</span>" in page
    # The grid's warnings filter agrees with the badge.
    soft = _checked(batch, name="soft.png", data=scene_png((1024, 1024), seed=62))
    CheckResult.objects.filter(draft=soft, kind="softness").update(status="warn")
    grid = reverse("drafts:batch", args=[batch.pk])
    assert _tile_names(client.get(grid + "?check=warn").text) == ["soft.png"]


def test_grid_badges_take_the_same_number_of_queries_for_2_and_8_drafts(
    cast, batch, django_assert_num_queries
):
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])
    for seed in range(2):
        _checked(batch, data=scene_png((256, 256), seed=100 + seed))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).text.count('class="check-badge') == 2
    for seed in range(6):
        _checked(batch, data=scene_png((256, 256), seed=200 + seed))
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).text.count('class="check-badge') == 8


def test_the_grid_filters_by_a_failing_check_and_sorts_by_softness(cast, batch):
    _checked(batch, name="crisp.png", data=scene_png((2400, 2400), seed=31))
    _checked(batch, name="soft.png", data=scene_png((2400, 2400), seed=32, blur=3))
    _checked(batch, name="small.png", data=scene_png((512, 512), seed=33))
    make_draft(batch, name="unchecked.png")
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])

    assert _tile_names(client.get(url + "?check=softness").text) == ["soft.png"]
    assert _tile_names(client.get(url + "?check=resolution").text) == ["small.png"]
    assert set(_tile_names(client.get(url + "?check=fail").text)) == {"soft.png", "small.png"}
    assert _tile_names(client.get(url + "?check=pending").text) == ["unchecked.png"]
    by_softness = _tile_names(client.get(url + "?sort=softness").text)
    assert (by_softness[0], by_softness[-1]) == ("soft.png", "unchecked.png")  # unchecked last
    assert _tile_names(client.get(url + "?sort=upscale").text)[0] == "small.png"
    assert _tile_names(client.get(url + "?check=nonsense").text) == [
        "crisp.png",
        "soft.png",
        "small.png",
        "unchecked.png",
    ]
    page = client.get(url + "?check=fail&sort=softness").text
    assert '<option value="fail" selected>Failing a check (2)</option>' in page
    assert '<option value="softness" selected>Softest first</option>' in page
    # Changing the decision filter keeps the check filter.
    assert 'href="?check=fail&amp;sort=softness&amp;decision=keep"' in page


def test_the_grid_gathers_near_duplicate_sets(cast, batch):
    original = _checked(batch, name="a.png", data=scene_png(seed=41))
    _checked(batch, name="b.png", data=scene_png(seed=42))
    copy = scene(seed=41).resize((600, 600), Image.Resampling.LANCZOS)
    _checked(batch, name="a-copy.jpg", data=encode_jpeg(copy, quality=85))
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])
    assert _tile_names(client.get(url + "?check=duplicates").text) == ["a.png", "a-copy.jpg"]
    assert _tile_names(client.get(url + "?sort=duplicates").text) == [
        "a.png",
        "a-copy.jpg",
        "b.png",
    ]
    assert "≈ set of 2" in client.get(url).text
    assert original.check_summary.dup_group == original.pk


def test_a_reviewer_can_rerun_the_checks_from_the_draft_page(
    cast, batch, django_capture_on_commit_callbacks
):
    draft = _checked(batch, data=scene_png((300, 300)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = cast.client("reviewer").post(reverse("checks:rerun", args=[draft.pk]))
    assert response.status_code == 302
    assert response.url == reverse("drafts:detail", args=[draft.pk])
    assert CheckJob.objects.get(draft=draft).status == JobStatus.QUEUED
    assert len(callbacks) == 1


def test_outsiders_get_404_for_the_checks_of_a_draft(cast, batch):
    draft = _checked(batch, data=scene_png((300, 300)))
    client = cast.client("outsider")
    assert client.get(reverse("checks:panel", args=[draft.pk])).status_code == 404
    assert client.post(reverse("checks:rerun", args=[draft.pk])).status_code == 404


def test_the_filter_counts_are_cached_until_a_check_of_the_batch_finishes(
    cast, batch, django_assert_max_num_queries
):
    from apps.checks.selectors import batch_check_filter_counts

    _checked(batch, name="crisp.png", data=scene_png((2400, 2400), seed=31))
    first = batch_check_filter_counts(batch)
    assert first["fail"] == 0
    with django_assert_max_num_queries(1):  # only the version query
        assert batch_check_filter_counts(batch) == first
    _checked(batch, name="small.png", data=scene_png((512, 512), seed=33))
    assert batch_check_filter_counts(batch)["fail"] == 1
