"""Team setup as an owner does it: create a campaign, invite a person by e-mail, the person
accepts with a new account, the owner changes their role and removes them."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from apps.campaigns.models import Campaign, Membership
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _both_sizes(page, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        _no_sideways_scroll(page)
        shot(page, f"team-{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_an_owner_creates_a_campaign_invites_a_person_changes_their_role_and_removes_them(
    page, live_server, settings
):
    settings.DRAFTROOM_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(username="olga", is_staff=True, email="olga@example.com")
    page.set_viewport_size(DESKTOP)
    log_in(page, "olga", PASSWORD)
    expect(page.locator("h1")).to_have_text("My campaigns")
    _both_sizes(page, "home-empty")

    page.click("#new-campaign")
    page.fill("input[name=name]", "Fjell autumn")
    page.fill("textarea[name=brief]", "Hikers with the can at dawn.")
    page.fill("input[name=key_message]", "Cold all the way up")
    page.fill("textarea[name=brand_rules]", "Logo upright\nNo red")
    page.check("input[name=target_channels][value=hero]")
    page.check("input[name=target_channels][value=square]")
    page.check("input[name=sign_off][value=all]")
    _both_sizes(page, "campaign-new")
    page.click("#save-campaign")
    expect(page.locator("h1")).to_have_text("People")
    campaign = Campaign.objects.get(name="Fjell autumn")
    assert campaign.brand_rules == ["Logo upright", "No red"]
    assert campaign.target_channels == ["square", "hero"]  # in the channels' order

    page.fill("#invite-form input[name=email]", "nia@example.com")
    page.select_option("#invite-form select[name=role]", "reviewer")
    page.click("#invite-form button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("Invitation sent to nia@example.com")
    expect(page.locator("#pending-invitations")).to_contain_text("nia@example.com")
    _both_sizes(page, "people")
    link = re.search(r"http\S+/invitations/\S+", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body

    # Nia opens the link in a browser where nobody is logged in.
    page.context.clear_cookies()
    page.goto(link.group(0))
    expect(page.locator("h1")).to_have_text("Join Fjell autumn")
    _both_sizes(page, "invitation")
    page.fill("input[name=username]", "nia")
    page.fill("input[name=password1]", "snow-on-the-ridge-42")
    page.fill("input[name=password2]", "snow-on-the-ridge-42")
    page.click("#new-account-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Fjell autumn")
    expect(page.locator(".role-badge")).to_have_text("You: Reviewer")
    # The link worked once.
    page.goto(link.group(0))
    expect(page.locator(".error")).to_contain_text("used already")

    # Back as the owner: Nia becomes a producer, then leaves the campaign.
    page.context.clear_cookies()
    log_in(page, "olga", PASSWORD)
    page.goto(f"/campaigns/{campaign.pk}/people/")
    row = page.locator("#members li[data-username=nia]")
    row.locator("select[name=role]").select_option("producer")
    row.locator(".role-form button").click()
    expect(page.locator(".msg-success")).to_contain_text("nia is now Producer")
    assert Membership.objects.get(campaign=campaign, user__username="nia").role == "producer"
    page.locator("#members li[data-username=nia] .remove-form button").click()
    expect(page.locator(".msg-success")).to_contain_text("Removed nia")
    expect(page.locator("#members li[data-username=nia]")).to_have_count(0)

    # The owner archives the campaign (read-only, off the lists) and restores it from home.
    page.goto(f"/campaigns/{campaign.pk}/edit/")
    page.click("#archive-form button[type=submit]")
    expect(page.locator(".archived-list")).to_contain_text("Fjell autumn")
    expect(page.locator(".campaign-card")).to_have_count(0)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator(".archived-banner")).to_contain_text("read-only")
    _both_sizes(page, "archived")
    page.click(".archived-banner button")
    expect(page.locator(".archived-banner")).to_have_count(0)

    # Nia no longer sees it.
    page.context.clear_cookies()
    log_in(page, "nia", "snow-on-the-ridge-42")
    expect(page.locator(".empty")).to_contain_text("not a member of any campaign")
    assert page.goto(f"/campaigns/{campaign.pk}/").status == 404
    assert not page.errors


def test_the_home_shows_what_waits_for_a_reviewer(cast, batch, page):
    from tests.factories import make_draft

    for n in range(3):
        make_draft(batch, name=f"d{n}.png")
    page.set_viewport_size(DESKTOP)
    log_in(page, "reviewer", PASSWORD)
    expect(page.locator(".campaign-card .waiting")).to_contain_text("3 drafts to decide")
    _both_sizes(page, "home-reviewer")
