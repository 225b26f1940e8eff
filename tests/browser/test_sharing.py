"""A client without an account approves one draft and asks for changes on another through a
share link an art director made; the team sees both answers; revoked and expired links are
refused with a clear page, and the guest reaches nothing outside the link."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from playwright.sync_api import expect

from apps.exports.models import Pack
from apps.exports.runs import pack_run
from apps.exports.services import pack_queue, preset_defaults_ensure
from apps.sharing.models import ClientApproval, ShareLink
from apps.sharing.services import share_link_create
from tests.browser.conftest import log_in, shot
from tests.core.builders import run_queued
from tests.exports.builders import kept_draft
from tests.factories import PASSWORD, BatchFactory, make_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _both_sizes(page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-1440")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def test_a_client_approves_and_requests_changes_through_a_share_link(
    cast, batch, page, browser, live_server
):
    preset_defaults_ensure()
    first = kept_draft(batch, cast.art_director, size=(1600, 1200), name="can-on-rock.jpg")
    second = kept_draft(batch, cast.art_director, size=(1200, 1600), name="can-in-snow.jpg")
    hidden = make_draft(batch, name="not-for-the-client.png")
    elsewhere = make_draft(BatchFactory(campaign=cast.other_campaign), name="elsewhere.png")

    # The art director makes a link for two drafts.
    log_in(page, "art_director", PASSWORD)
    page.goto(f"/campaigns/{cast.campaign.pk}/share-links/?draft={first.pk}")
    page.check(f"input[name=drafts][value='{second.pk}']")
    page.fill("input[name=title]", "Fjell summer for Ana")
    page.click("#share-submit")
    address = page.locator("#new-link").input_value()
    assert re.search(r"/share/[\w-]{40,}/$", address)
    _both_sizes(page, "sharing-links")

    # The client opens it logged out, gives name and e-mail and sees the two drafts only.
    guest_context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    guest = guest_context.new_page()
    guest.goto(address)
    _both_sizes(guest, "sharing-gate")
    guest.fill("input[name=name]", "Ana Client")
    guest.fill("input[name=email]", "ana@client.example")
    guest.click("#gate-submit")
    expect(guest.locator(".share-tile")).to_have_count(2)
    _both_sizes(guest, "sharing-guest-home")

    # Approve the first draft (fit, then 100 %).
    guest.click(f".share-tile[data-draft='{first.pk}']")
    expect(guest.locator(".share-fit img")).to_be_visible()
    guest.click("#zoom-100")
    expect(guest.locator(".share-actual img")).to_be_visible()
    guest.click("#approve")
    expect(guest.locator(".msg-success")).to_contain_text("Approved")
    _both_sizes(guest, "sharing-guest-draft")

    # Request changes on the second, with a comment.
    guest.goto(f"{address}drafts/{second.pk}/")
    guest.fill("textarea[name=comment]", "Warmer light on the can, please")
    guest.click("#request-changes")
    expect(guest.locator(".client-answers")).to_contain_text("Warmer light on the can")
    verdicts = dict(ClientApproval.objects.values_list("draft_id", "verdict"))
    assert verdicts == {first.pk: "approved", second.pk: "changes_requested"}

    # Nothing outside the link: another draft of the campaign, another campaign's draft.
    for other in (hidden, elsewhere):
        response = guest.goto(f"{address}drafts/{other.pk}/")
        assert response is not None and response.status == 404
        response = guest.goto(f"{address}drafts/{other.pk}/image/original/")
        assert response is not None and response.status == 404
    response = guest.goto(f"/drafts/{first.pk}/")
    assert "/login/" in guest.url  # member pages stay closed to a guest

    # The art director sees both answers, on the draft pages and the record.
    page.goto(f"/drafts/{first.pk}/")
    expect(page.locator("#client-answers")).to_contain_text("Approved by Ana Client")
    page.goto(f"/drafts/{second.pk}/")
    expect(page.locator("#client-answers")).to_contain_text("Changes requested by Ana Client")
    expect(page.locator("#client-answers")).to_contain_text("Warmer light on the can")
    page.goto(f"/drafts/{second.pk}/record/")
    expect(page.locator("#record-client-approvals")).to_contain_text("Changes requested")
    shot(page, "sharing-record")

    # The pack's manifest carries the client approvals.
    pack_queue(campaign=cast.campaign, by=cast.art_director, without_missing=True)
    run_queued(Pack, pack_run)
    pack = Pack.objects.get(kind="zip")
    with default_storage.open(pack.output_key, "rb") as fh:
        manifest = json.loads(zipfile.ZipFile(io.BytesIO(fh.read())).read("manifest.json"))
    answers = {a["draft"]["id"]: a["client_approvals"] for a in manifest["assets"]}
    assert answers[first.pk][0]["verdict"] == "approved"
    assert answers[second.pk][0]["comment"] == "Warmer light on the can, please"

    # Revoked: the guest's next page says so.
    page.goto(f"/campaigns/{cast.campaign.pk}/share-links/")
    page.click("#share-links button:has-text('Revoke')")
    expect(page.locator(".msg-success")).to_contain_text("revoked")
    response = guest.goto(address)
    assert response is not None and response.status == 410
    expect(guest.locator("#share-refused")).to_contain_text("This link has been revoked")
    _both_sizes(guest, "sharing-revoked")

    # Expired: a link past its date says so too.
    _, token = share_link_create(
        campaign=cast.campaign, by=cast.producer, title="Old round", drafts=[first]
    )
    ShareLink.objects.filter(title="Old round").update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    response = guest.goto(f"/share/{token}/")
    assert response is not None and response.status == 410
    expect(guest.locator("#share-refused")).to_contain_text("This link has expired")
    _both_sizes(guest, "sharing-expired")
    guest_context.close()
    assert page.errors == []
