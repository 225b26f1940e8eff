"""Search, saved searches and stacks on the grid (apps.drafts.selectors.drafts_search)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.drafts.models import Draft, SavedFilter
from apps.drafts.selectors import GridFilters, drafts_search
from tests.drafts.builders import generated, run_previews
from tests.factories import BatchFactory


@pytest.fixture
def drafts(cast, batch):
    return {
        "can": generated(
            batch,
            "can.png",
            "sparkling water can on snow",
            seed=101,
            lora="fjellCan_v2",
            by=cast.creator,
        ),
        "can2": generated(
            batch, "can2.png", "sparkling water can on snow", seed=102, lora="fjellCan_v2"
        ),
        "bottle": generated(
            batch, "bottle.png", "glass bottle in a fjord", seed=555, by=cast.art_director
        ),
    }


def _names(qs) -> set[str]:
    return {d.original_name for d in qs}


def test_search_finds_drafts_by_prompt_words_seed_and_lora_name(cast, drafts):
    search = lambda q: _names(drafts_search(cast.reviewer, cast.campaign, q))  # noqa: E731
    assert search("sparkling snow") == {"can.png", "can2.png"}
    assert search("spark") == {"can.png", "can2.png"}, "a word's beginning is enough"
    assert search("fjord") == {"bottle.png"}
    assert search("seed:555") == {"bottle.png"}
    assert search("lora:fjellcan") == {"can.png", "can2.png"}
    assert search("lora:fjellCan_v2 seed:102") == {"can2.png"}
    assert search("lora:bottle") == set(), "a prompt word is not a LoRA name"
    assert search("watermark") == {"can.png", "can2.png", "bottle.png"}, "negative prompts too"


def test_search_filters_by_model_sampler_uploader_decision_and_dates(cast, drafts):
    Draft.objects.filter(pk=drafts["bottle"].pk).update(decision="keep")
    search = lambda q: _names(drafts_search(cast.reviewer, cast.campaign, q))  # noqa: E731
    assert search("model:sd_xl sampler:dpm") == {"can.png", "can2.png", "bottle.png"}
    assert search("model:flux") == set()
    assert search("by:creator") == {"can.png"}
    assert search("decision:keep") == {"bottle.png"}
    assert search("decision:undecided") == {"can.png", "can2.png"}
    assert search("after:2000-01-01 before:2999-01-01") == {"can.png", "can2.png", "bottle.png"}
    assert search("after:2999-01-01") == set()


def test_search_stays_inside_the_campaign_and_the_batch(cast, drafts):
    other_batch = BatchFactory(campaign=cast.other_campaign)
    generated(other_batch, "theirs.png", "sparkling water can on snow", seed=101)
    assert _names(drafts_search(cast.reviewer, cast.campaign, "sparkling")) == {
        "can.png",
        "can2.png",
    }
    second = BatchFactory(campaign=cast.campaign, name="Round 2")
    generated(second, "later.png", "sparkling lemonade", seed=7)
    in_batch = drafts_search(
        cast.reviewer, cast.campaign, "sparkling", GridFilters(batch_id=second.pk)
    )
    assert _names(in_batch) == {"later.png"}


def test_an_outsider_cannot_search_a_campaign(cast, drafts):
    from django.http import Http404

    with pytest.raises(Http404):
        drafts_search(cast.outsider, cast.campaign, "can")


def test_the_grid_shows_what_the_search_finds_and_its_counts(cast, batch, drafts):
    page = cast.client("reviewer").get(reverse("drafts:batch", args=[batch.pk]), {"q": "fjord"})
    assert "bottle.png" in page.text and "can2.png" not in page.text
    assert 'value="fjord"' in page.text and "Save search" in page.text


def test_the_campaign_search_page_searches_every_batch(cast, batch, drafts):
    second = BatchFactory(campaign=cast.campaign, name="Round 2")
    generated(second, "later.png", "sparkling lemonade", seed=7)
    page = cast.client("producer").get(
        reverse("drafts:search", args=[cast.campaign.pk]), {"q": "sparkling"}
    )
    assert all(name in page.text for name in ("can.png", "can2.png", "later.png"))
    assert "bottle.png" not in page.text


def test_what_the_query_does_not_understand_is_shown(cast, batch, drafts):
    page = cast.client("reviewer").get(reverse("drafts:batch", args=[batch.pk]), {"q": "seed:abc"})
    assert "Not understood: seed:abc is not a number" in page.text


def test_a_person_saves_a_search_beside_the_box_and_others_do_not_see_it(cast, batch, drafts):
    client = cast.client("reviewer")
    response = client.post(
        reverse("drafts:saved-search-create", args=[cast.campaign.pk]),
        {"name": "Fjell cans", "q": "lora:fjellcan", "batch": batch.pk},
    )
    assert response.status_code == 302
    assert response.url == reverse("drafts:batch", args=[batch.pk]) + "?q=lora%3Afjellcan"
    page = client.get(reverse("drafts:batch", args=[batch.pk]))
    assert "Fjell cans" in page.text and "?q=lora%3Afjellcan" in page.text
    assert (
        "Fjell cans"
        not in cast.client("creator").get(reverse("drafts:batch", args=[batch.pk])).text
    )
    # Saving the name again replaces its query.
    client.post(
        reverse("drafts:saved-search-create", args=[cast.campaign.pk]),
        {"name": "Fjell cans", "q": "seed:101"},
    )
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["seed:101"]


def test_a_saved_search_is_deleted_only_by_its_owner(cast, drafts):
    saved = SavedFilter.objects.create(
        user=cast.reviewer, campaign=cast.campaign, name="x", query="can"
    )
    url = reverse("drafts:saved-search-delete", args=[cast.campaign.pk])
    assert cast.client("art_director").post(url, {"id": saved.pk}).status_code == 302
    assert SavedFilter.objects.exists()
    assert cast.client("outsider").post(url, {"id": saved.pk}).status_code == 404
    assert cast.client("reviewer").post(url, {"id": saved.pk}).status_code == 302
    assert not SavedFilter.objects.exists()


def test_a_search_without_a_name_is_not_saved(cast, drafts):
    cast.client("reviewer").post(
        reverse("drafts:saved-search-create", args=[cast.campaign.pk]), {"name": " ", "q": "can"}
    )
    assert not SavedFilter.objects.exists()


def test_drafts_of_one_prompt_stack_into_one_card_with_a_count(cast, batch, drafts):
    run_previews()
    page = cast.client("reviewer").get(reverse("drafts:batch", args=[batch.pk]), {"stacks": "on"})
    assert page.text.count('class="stack-count"') == 1
    assert "2 drafts" in page.text and "bottle.png" in page.text
    assert page.text.count('data-draft-id="') == 2
    stack_url = reverse("drafts:stack", args=[batch.pk, "p" + drafts["can"].prompt_key])
    assert f'href="{stack_url}"' in page.text


def test_a_stack_opens_and_its_best_is_kept_and_the_rest_rejected_together(cast, batch, drafts):
    key = "p" + drafts["can"].prompt_key
    url = reverse("drafts:stack", args=[batch.pk, key])
    page = cast.client("art_director").get(url)
    assert "can.png" in page.text and "can2.png" in page.text and "bottle.png" not in page.text
    refused = cast.client("art_director").post(
        url, {"best": drafts["can2"].pk, "rest": "reject", "note": ""}
    )
    assert refused.status_code == 400 and "A note is required" in refused.text
    assert set(Draft.objects.values_list("decision", flat=True)) == {""}, "all or nothing"
    done = cast.client("art_director").post(
        url, {"best": drafts["can2"].pk, "rest": "reject", "note": "Label is wrong"}
    )
    assert done.status_code == 302
    decisions = dict(Draft.objects.values_list("original_name", "decision"))
    assert decisions == {"can.png": "reject", "can2.png": "keep", "bottle.png": ""}
    assert drafts["can"].reviews.get().note == "Label is wrong"


def test_a_producer_sees_a_stack_but_cannot_decide_it(cast, batch, drafts):
    url = reverse("drafts:stack", args=[batch.pk, "p" + drafts["can"].prompt_key])
    assert cast.client("producer").get(url).status_code == 200
    assert (
        cast.client("producer").post(url, {"best": drafts["can"].pk, "rest": ""}).status_code == 403
    )


def test_an_unknown_stack_is_404(cast, batch, drafts):
    assert (
        cast.client("reviewer")
        .get(reverse("drafts:stack", args=[batch.pk, "pnothing"]))
        .status_code
        == 404
    )
    assert (
        cast.client("reviewer").get(reverse("drafts:stack", args=[batch.pk, "zz"])).status_code
        == 404
    )


@pytest.mark.parametrize(
    "params", [{"q": "sparkling lora:fjellcan"}, {"stacks": "on"}, {"q": "can", "stacks": "on"}]
)
def test_search_and_stacks_keep_the_grid_to_a_constant_number_of_queries(
    cast, batch, params, django_assert_num_queries
):
    client = cast.client("reviewer")
    url = reverse("drafts:batch", args=[batch.pk])
    for seed in range(2):
        generated(batch, f"a{seed}.png", "sparkling can", seed=seed, lora="fjellcan")
        generated(batch, f"b{seed}.png", f"can number {seed}", seed=seed)
    run_previews()
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    for seed in range(2, 30):
        generated(batch, f"a{seed}.png", "sparkling can", seed=seed, lora="fjellcan")
        generated(batch, f"b{seed}.png", f"can number {seed}", seed=seed)
    run_previews()
    assert Draft.objects.count() == 60
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url, params)


def test_the_campaign_page_links_to_its_search(cast):
    page = cast.client("creator").get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    assert f'href="{reverse("drafts:search", args=[cast.campaign.pk])}"' in page.text


def test_a_stack_decided_on_a_stale_page_gets_a_conflict_and_nothing_is_saved(cast, batch, drafts):
    from apps.reviews.selectors import decision_version
    from apps.reviews.services import review_submit

    url = reverse("drafts:stack", args=[batch.pk, "p" + drafts["can"].prompt_key])
    seen = {f"version-{d.pk}": decision_version(d) for d in (drafts["can"], drafts["can2"])}
    assert all(f'value="{v}"' in cast.client("art_director").get(url).text for v in seen.values())
    # Someone else decides one of them after the page was opened.
    review_submit(draft=drafts["can2"], reviewer=cast.art_director, decision="keep")
    answer = cast.client("art_director").post(
        url, {"best": drafts["can"].pk, "rest": "reject", "note": "dup", **seen}
    )
    assert answer.status_code == 409 and "changed while you were looking" in answer.text
    decisions = dict(Draft.objects.values_list("original_name", "decision"))
    assert decisions == {"can.png": "", "can2.png": "keep", "bottle.png": ""}
