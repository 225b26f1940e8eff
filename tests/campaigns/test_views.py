from django.urls import reverse

from apps.campaigns.services import campaign_create, membership_set
from tests.factories import BatchFactory, make_draft


def test_people_see_only_the_campaigns_they_belong_to(cast):
    page = cast.client("reviewer").get(reverse("campaigns:list"))
    assert page.status_code == 200
    assert "Fjell summer" in page.text
    assert "Someone else" not in page.text


def test_the_campaign_page_shows_the_brief_rules_channels_and_counts(cast, batch):
    make_draft(batch)
    page = cast.client("producer").get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    assert page.status_code == 200
    for text in (
        "Launch the new flavour.",
        "Teal and white only.",
        "Hero banner",
        "Round 1",
        "1 undecided",
    ):
        assert text in page.text


def test_an_outsider_gets_404_for_the_campaign_page(cast):
    assert (
        cast.client("outsider")
        .get(reverse("campaigns:detail", args=[cast.campaign.pk]))
        .status_code
        == 404
    )


def test_a_campaign_id_past_the_databases_integer_range_is_a_404_not_a_500(cast):
    # Django guards ``pk=`` lookups against overflow, not ``campaign_id=`` (SQLite raised).
    client = cast.client("art_director")
    for name in ("campaigns:detail", "drafts:upload", "exports:packs", "reviews:settings"):
        assert client.get(reverse(name, args=[2**63])).status_code == 404


def test_anonymous_people_are_sent_to_log_in(client, cast):
    response = client.get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_activity_page_lists_who_did_what(cast, batch):
    make_draft(batch, name="hero.png", by=cast.creator)
    page = cast.client("reviewer").get(reverse("campaigns:activity", args=[cast.campaign.pk]))
    assert "creator" in page.text and "hero.png" in page.text


def test_campaign_services_record_membership_changes(db):
    from tests.factories import UserFactory

    campaign = campaign_create(name="New", brand_rules=["one"], target_channels=["square"])
    membership = membership_set(
        campaign=campaign, user=UserFactory(username="zoe"), role="producer"
    )
    assert membership.role == "producer"
    assert campaign.audit_events.filter(verb="membership.set").exists()


def _home_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("campaigns:list")).status_code == 200
    return len(ctx.captured_queries)


def test_the_campaign_list_runs_a_constant_number_of_queries(cast, batch):
    """Session, user, campaigns, roles, archived, notifications and one query per app that
    says what waits: none of it grows with the number of campaigns."""
    client = cast.client("art_director")
    one = _home_queries(client)
    for n in range(5):
        campaign = campaign_create(name=f"C{n}")
        membership_set(campaign=campaign, user=cast.art_director, role="art_director")
        make_draft(BatchFactory(campaign=campaign), name=f"d{n}.png")
    assert _home_queries(client) == one <= 12


def test_a_batch_made_a_moment_ago_reads_just_now_on_the_campaign_page(cast, batch):
    page = cast.client("reviewer").get(reverse("campaigns:detail", args=[cast.campaign.pk]))
    row = next(line for line in page.text.splitlines() if batch.name in line and "<tr>" in line)
    assert "just now" in row and "0\xa0minutes" not in row
