"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in a
subprocess, tests/accounts/provider.py): invited by e-mail, a person logs in through the
company login and lands in the campaign that invited their verified address."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.campaigns.models import Membership
from apps.campaigns.services import invitation_create
from tests.accounts.provider import oidc_provider  # noqa: F401 - the fixture
from tests.browser.conftest import shot

PHONE = {"width": 390, "height": 844}
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _company_login(page, provider, username: str) -> None:
    page.goto("/login/")
    page.click("#sso-login")
    page.wait_for_url(f"{provider.url}/accounts/login/**")
    page.fill("#provider-username", username)
    page.fill("#provider-password", provider.password)
    page.click("#provider-submit")


def test_an_invited_person_logs_in_through_the_company_login(cast, page, oidc_provider):  # noqa: F811
    invitation_create(
        campaign=cast.campaign, email="kari@fjell.example", role="reviewer", by=cast.art_director
    )
    page.goto("/login/")
    expect(page.locator("#sso-login")).to_have_text("Log in with Fjell login")
    for label, size in (("desktop", {"width": 1440, "height": 900}), ("phone", PHONE)):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, f"sso-login-{label}")
    _company_login(page, oidc_provider, "kari")
    expect(page.locator("h1")).to_have_text("My campaigns")
    expect(page.locator(".campaign-card")).to_contain_text("Fjell summer")
    membership = Membership.objects.get(campaign=cast.campaign, user__email="kari@fjell.example")
    assert membership.role == "reviewer" and membership.user.username == "kari"
    # The password form is still there for people without the company login.
    page.context.clear_cookies()
    page.goto("/login/")
    expect(page.locator("input[name=password]")).to_be_visible()
    assert not page.errors


def test_an_uninvited_or_unverified_address_is_refused(cast, page, oidc_provider):  # noqa: F811
    _company_login(page, oidc_provider, "ola")
    expect(page.locator(".error")).to_contain_text("Single sign-on did not log you in")
    page.context.clear_cookies()
    invitation_create(
        campaign=cast.campaign, email="eve@fjell.example", role="reviewer", by=cast.art_director
    )
    _company_login(page, oidc_provider, "eve")
    expect(page.locator(".error")).to_contain_text("Single sign-on did not log you in")
    assert not Membership.objects.filter(user__email__in=["ola@fjell.example", "eve@fjell.example"])
