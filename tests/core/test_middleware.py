import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_draft


@pytest.mark.parametrize(
    "page",
    ["drafts:detail", "drafts:batch", "rework:notifications", "rework:inbox", "campaigns:list"],
)
def test_pages_that_show_state_are_never_served_from_the_browser_cache(cast, batch, page):
    draft = make_draft(batch)
    args = {"drafts:detail": [draft.pk], "drafts:batch": [batch.pk]}.get(page, [])
    response = cast.client("reviewer").get(reverse(page, args=args))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_images_keep_their_own_caching(cast, batch):
    draft = make_draft(batch)
    response = cast.client("reviewer").get(reverse("drafts:image", args=[draft.pk, "original"]))
    assert response["Cache-Control"] == "private, max-age=3600"


def test_an_outsider_gets_a_styled_404_that_says_what_to_do(cast, batch):
    draft = make_draft(batch)
    response = cast.client("outsider").get(reverse("drafts:detail", args=[draft.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="error-page"' in html and "Go to your campaigns" in html
    assert "ask them" in html and 'class="topbar"' in html


def test_a_role_that_cannot_gets_a_styled_403_that_names_the_reason(cast, batch):
    response = cast.client("creator").get(reverse("reviews:settings", args=[cast.campaign.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-page"' in html and "cannot do this" in html
    assert "Go to your campaigns" in html


def test_the_500_page_renders_without_a_request(db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html and 'href="/"' in html


def test_an_anonymous_visitor_is_sent_to_log_in_not_shown_an_error(db):
    response = Client().get(reverse("campaigns:list"))
    assert response.status_code == 302 and "/login/" in response.url


def test_a_moment_within_the_last_minute_reads_just_now_not_zero_minutes():
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.templatetags.core_tags import ago

    assert ago(timezone.now()) == "just now"
    assert ago(timezone.now() - timedelta(hours=3, minutes=5)) == "3\xa0hours ago"
    assert ago(None) == ""
