"""The API token page and the webhooks page, as people use them, at desktop and phone sizes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.api.models import ApiToken
from apps.webhooks.models import WebhookEndpoint
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


def _widest(page) -> str:
    return page.evaluate(
        """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.'
        + e.className).join(' ')"""
    )


def test_a_person_makes_a_token_sees_it_once_and_revokes_it(page, cast):
    log_in(page, "creator", PASSWORD)
    page.click("#tokens-link")
    page.fill("input[name=name]", "Render box")
    page.check("input[name=scope][value=write]")
    page.click("#token-form button[type=submit]")
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("drt_")
    shot(page, "api-tokens-1440")
    token = ApiToken.objects.get(name="Render box")
    assert token.prefix == secret[:12]
    page.goto("/settings/tokens/")
    expect(page.locator("#token-secret")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "api-tokens-390")
    assert not _scrolls_sideways(page), _widest(page)
    page.click("#token-list button:has-text('Revoke')")
    expect(page.locator("#token-list")).to_contain_text("Revoked")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert page.errors == []


def test_an_art_director_adds_a_webhook(page, cast, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/campaigns/{cast.campaign.pk}/webhooks/")
    page.fill("input[name=url]", "http://127.0.0.1:9/hook")
    page.check("input[name=events][value='draft.created']")
    page.check("input[name=events][value='pack.ready']")
    page.click("#webhook-form button[type=submit]")
    expect(page.locator(".webhook-endpoint")).to_contain_text("draft.created, pack.ready")
    assert WebhookEndpoint.objects.get().events == ["draft.created", "pack.ready"]
    shot(page, "webhooks-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "webhooks-390")
    assert not _scrolls_sideways(page), _widest(page)
    assert page.errors == []
