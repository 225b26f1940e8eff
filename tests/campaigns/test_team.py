"""Team setup: owners, invitations, roles, archive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Campaign, Invitation, Membership
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import campaigns_for_user, requester_refusal
from apps.campaigns.services import (
    campaign_archive,
    campaign_create,
    campaign_restore,
    campaign_update,
    invitation_accept,
    invitation_create,
    invitation_for_link,
    membership_remove,
    membership_set,
)
from apps.core.errors import Refusal
from tests.factories import UserFactory


@pytest.fixture
def owner(cast):
    """The art director created the cast's campaign."""
    Campaign.objects.filter(pk=cast.campaign.pk).update(created_by=cast.art_director)
    cast.campaign.refresh_from_db()
    return cast.art_director


def _link(message) -> str:
    return next(w for w in message.body.split() if "/invitations/" in w)


def test_whoever_creates_a_campaign_owns_it_and_joins_as_art_director(db):
    staff = UserFactory(username="sam", is_staff=True)
    campaign = campaign_create(name="Autumn", target_channels=["hero", "square"], created_by=staff)
    assert campaign.created_by == staff
    assert Membership.objects.get(campaign=campaign, user=staff).role == "art_director"


def test_a_campaign_refuses_a_channel_that_is_not_one(db):
    with pytest.raises(Refusal):
        campaign_create(name="X", target_channels=["<script>"])


def test_updating_writes_only_changed_fields_and_says_which(cast, owner):
    campaign_update(campaign=cast.campaign, by=owner, name="Fjell summer", key_message="Cold")
    event = cast.campaign.audit_events.get(verb="campaign.updated")
    assert event.data == {"fields": ["key_message"]}


def test_an_invitation_stores_only_a_hash_and_mails_a_signed_link(
    cast, owner, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        new = invitation_create(
            campaign=cast.campaign, email="Nia@Example.com", role="reviewer", by=owner
        )
    link = _link(mail.outbox[0])
    raw = new.link_token.split(":")[0]
    assert raw not in new.invitation.token_hash and len(new.invitation.token_hash) == 64
    assert (
        link.startswith(settings.DRAFTROOM_BASE_URL) and new.invitation.email == "nia@example.com"
    )


def test_an_invitation_works_once(cast, owner):
    new = invitation_create(campaign=cast.campaign, email="n@example.com", role="creator", by=owner)
    nia = UserFactory(username="nia")
    assert invitation_accept(link_token=new.link_token, user=nia).role == "creator"
    with pytest.raises(Refusal, match="used already"):
        invitation_accept(link_token=new.link_token, user=UserFactory(username="eve"))


def test_an_expired_or_tampered_invitation_is_refused(cast, owner):
    new = invitation_create(campaign=cast.campaign, email="n@example.com", role="creator", by=owner)
    with pytest.raises(Refusal, match="not valid"):
        invitation_for_link(new.link_token[:-2] + "xx")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Refusal, match="expired"):
        invitation_for_link(new.link_token)


def test_a_new_invitation_to_the_same_address_replaces_the_old_link(cast, owner):
    old = invitation_create(campaign=cast.campaign, email="n@example.com", role="creator", by=owner)
    invitation_create(campaign=cast.campaign, email="n@example.com", role="producer", by=owner)
    with pytest.raises(Refusal, match="no longer valid"):
        invitation_for_link(old.link_token)


def test_accepting_without_an_account_creates_one_and_shows_the_campaign(cast, owner):
    new = invitation_create(
        campaign=cast.campaign, email="n@example.com", role="reviewer", by=owner
    )
    client = Client()
    page = client.get(reverse("campaigns:invitation", args=[new.link_token]))
    assert page.status_code == 200 and "Fjell summer" in page.text
    response = client.post(
        reverse("campaigns:invitation", args=[new.link_token]),
        {"username": "nia", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert response.url == reverse("campaigns:detail", args=[cast.campaign.pk])
    membership = Membership.objects.get(user__username="nia")
    assert membership.role == "reviewer" and membership.user.email == "n@example.com"
    assert client.get(response.url).status_code == 200


def test_a_logged_in_person_joins_with_their_own_account(cast, owner):
    new = invitation_create(
        campaign=cast.campaign, email="x@example.com", role="producer", by=owner
    )
    client = cast.client("outsider")
    response = client.post(reverse("campaigns:invitation", args=[new.link_token]))
    assert response.status_code == 302
    assert Membership.objects.get(campaign=cast.campaign, user=cast.outsider).role == "producer"


def test_a_used_link_answers_gone(cast, owner):
    new = invitation_create(
        campaign=cast.campaign, email="x@example.com", role="producer", by=owner
    )
    invitation_accept(link_token=new.link_token, user=cast.outsider)
    page = Client().get(reverse("campaigns:invitation", args=[new.link_token]))
    assert page.status_code == 410 and "used already" in page.text


def test_removing_a_member_refuses_their_queued_jobs(cast, owner):
    membership_remove(campaign=cast.campaign, user=cast.producer, by=owner)
    why = requester_refusal(user_id=cast.producer.pk, campaign_id=cast.campaign.pk, need=Can.EXPORT)
    assert why and "no longer a member" in why


def test_a_role_change_refuses_jobs_the_new_role_cannot_do(cast, owner):
    membership_set(campaign=cast.campaign, user=cast.producer, role="reviewer", by=owner)
    why = requester_refusal(user_id=cast.producer.pk, campaign_id=cast.campaign.pk, need=Can.EXPORT)
    assert why and "Reviewer" in why


def test_the_creator_cannot_be_removed(cast, owner):
    with pytest.raises(Refusal):
        membership_remove(campaign=cast.campaign, user=owner, by=owner)


def test_an_archived_campaign_is_hidden_read_only_and_restorable(cast, owner, batch):
    campaign_archive(campaign=cast.campaign, by=owner)
    assert cast.campaign not in campaigns_for_user(cast.reviewer)
    reviewer = cast.client("reviewer")
    assert reviewer.get(reverse("campaigns:detail", args=[cast.campaign.pk])).status_code == 200
    assert reviewer.get(reverse("drafts:upload", args=[cast.campaign.pk])).status_code == 403
    why = requester_refusal(user_id=cast.producer.pk, campaign_id=cast.campaign.pk, need=Can.EXPORT)
    assert why == "Not run: the campaign is archived."
    with pytest.raises(Refusal):
        invitation_create(campaign=cast.campaign, email="a@example.com", role="creator", by=owner)
    assert campaign_restore(campaign=cast.campaign, by=owner)
    assert cast.campaign in campaigns_for_user(cast.reviewer)


def test_the_owner_edits_the_campaign_through_the_page(cast, owner):
    client = cast.client("art_director")
    response = client.post(
        reverse("campaigns:edit", args=[cast.campaign.pk]),
        {
            "name": "Fjell winter",
            "brief": "Snow",
            "brand_rules": "Blue\n\nNo red",
            "target_channels": ["hero"],
            "sign_off": "all",
        },
    )
    assert response.status_code == 302
    cast.campaign.refresh_from_db()
    assert cast.campaign.name == "Fjell winter" and cast.campaign.brand_rules == ["Blue", "No red"]
    from apps.reviews.selectors import review_settings_for

    assert review_settings_for(cast.campaign).sign_off == "all"


def test_staff_own_every_campaign_even_outside_it(cast):
    staff = UserFactory(username="sam", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("campaigns:people", args=[cast.campaign.pk])).status_code == 200
    assert client.get(reverse("campaigns:new")).status_code == 200


def test_the_home_says_what_waits_for_each_role(cast, owner, batch):
    from tests.factories import make_draft

    make_draft(batch, name="a.png")
    assert "1</strong> drafts to decide" in cast.client("reviewer").get("/").text
    assert "drafts to decide" not in cast.client("creator").get("/").text


def test_the_form_offers_channels_with_their_presets_and_keeps_a_preset_slug(cast, owner):
    cast.campaign.target_channels = ["hero", "youtube_thumbnail"]
    cast.campaign.save()
    page = cast.client("art_director").get(reverse("campaigns:edit", args=[cast.campaign.pk]))
    assert 'value="youtube_thumbnail"' in page.text
    assert page.context["form"].initial["target_channels"] == ["hero", "youtube_thumbnail"]


def test_django_admin_is_for_staff_only_and_lists_invitations(cast, owner):
    invitation_create(campaign=cast.campaign, email="n@example.com", role="creator", by=owner)
    assert cast.client("art_director").get("/admin/").status_code == 302  # to the admin login
    staff = UserFactory(username="sam", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/campaigns/invitation/")
    assert page.status_code == 200 and "n@example.com" in page.text
    assert client.get("/admin/campaigns/campaign/").status_code == 200


def test_services_refuse_to_add_to_an_archived_campaign(cast, owner, batch):
    from apps.drafts.services import batch_create, draft_intake
    from apps.reviews.services import review_submit
    from tests.factories import make_draft
    from tests.images import png_bytes

    draft = make_draft(batch)
    campaign_archive(campaign=cast.campaign, by=owner)
    batch.campaign.refresh_from_db()
    draft.campaign.refresh_from_db()
    with pytest.raises(Refusal, match="archived"):
        batch_create(campaign=cast.campaign, name="New", created_by=cast.creator)
    result = draft_intake(batch=batch, uploaded_by=cast.creator, name="a.png", upload=png_bytes())
    assert result.code == "archived" and result.draft is None
    with pytest.raises(Refusal, match="archived"):
        review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")


def test_the_home_says_what_waits_for_art_directors_creators_and_producers(cast, batch):
    from apps.drafts.models import Draft
    from apps.reviews.services import review_submit
    from apps.rework.services import assignment_create
    from tests.factories import make_draft

    waiting = make_draft(batch, name="w.png")
    review_submit(draft=waiting, reviewer=cast.reviewer, decision="keep")  # awaits sign-off
    kept = make_draft(batch, name="k.png")
    Draft.objects.filter(pk=kept.pk).update(decision="keep")
    assignment_create(
        draft=kept,
        assigned_by=cast.art_director,
        assignee=cast.creator,
        kind="edit",
        instructions="Straighten the can",
        due_date=timezone.localdate() + timedelta(days=1),
    )
    assert "1</strong> decisions to sign off" in cast.client("art_director").get("/").text
    assert "1</strong> open rework for you" in cast.client("creator").get("/").text
    assert "1</strong> kept drafts to export" in cast.client("producer").get("/").text
