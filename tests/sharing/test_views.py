"""Share links: members make and revoke them; guests open them without an account, see only
the link's drafts and answer; every refusal is a clear page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import AuditEvent
from apps.exports.selectors import asset_record
from apps.rework.models import Notification
from apps.sharing.models import ClientApproval, ShareLink
from apps.sharing.services import share_link_create
from tests.factories import make_draft


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def shared(cast, batch):
    first = make_draft(batch, name="first.png")
    second = make_draft(batch, name="second.png")
    hidden = make_draft(batch, name="hidden.png")
    link, token = share_link_create(
        campaign=cast.campaign,
        by=cast.art_director,
        title="Summer for Ana",
        drafts=[first, second],
    )
    return {"link": link, "token": token, "first": first, "second": second, "hidden": hidden}


def _guest(token: str, name: str = "Ana Client", email: str = "ana@client.example") -> Client:
    client = Client()
    response = client.post(reverse("sharing:guest", args=[token]), {"name": name, "email": email})
    assert response.status_code == 302
    return client


def test_the_token_is_stored_only_as_its_hash(shared):
    link = ShareLink.objects.get()
    assert shared["token"] not in link.token_hash and len(link.token_hash) == 64


def test_a_guest_gives_name_and_email_before_seeing_anything(shared):
    client = Client()
    url = reverse("sharing:guest-draft", args=[shared["token"], shared["first"].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("sharing:guest", args=[shared["token"]])
    page = client.get(response.url)
    assert page.status_code == 200 and b"Your e-mail" in page.content


def test_opening_is_audited_with_the_guests_name(shared):
    _guest(shared["token"])
    event = AuditEvent.objects.get(verb="share.opened")
    assert "Ana Client" in event.summary and event.actor is None


def test_a_guest_sees_the_links_drafts_and_nothing_else(shared):
    client = _guest(shared["token"])
    home = client.get(reverse("sharing:guest", args=[shared["token"]]))
    assert b"first.png" in home.content and b"hidden.png" not in home.content
    token = shared["token"]
    for name in ("sharing:guest-draft",):
        assert client.get(reverse(name, args=[token, shared["first"].pk])).status_code == 200
        assert client.get(reverse(name, args=[token, shared["hidden"].pk])).status_code == 404
    image = reverse("sharing:guest-image", args=[token, shared["hidden"].pk, "original"])
    assert client.get(image).status_code == 404
    # Member pages stay closed to the guest's session.
    member = client.get(reverse("drafts:detail", args=[shared["first"].pk]))
    assert member.status_code == 302 and member.url.startswith(reverse("login"))


def test_a_guests_approval_is_recorded_audited_and_notified(cast, shared):
    client = _guest(shared["token"])
    url = reverse("sharing:guest-answer", args=[shared["token"], shared["first"].pk])
    assert client.post(url, {"verdict": "approved"}).status_code == 302
    answer = ClientApproval.objects.get()
    assert (answer.verdict, answer.guest_email) == ("approved", "ana@client.example")
    assert AuditEvent.objects.filter(verb="client.approved", target_id=shared["first"].pk).exists()
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"art_director", "producer"}
    record = asset_record(shared["first"])
    assert record["client_approvals"][0]["verdict"] == "approved"


def test_requesting_changes_needs_a_comment(shared):
    client = _guest(shared["token"])
    url = reverse("sharing:guest-answer", args=[shared["token"], shared["second"].pk])
    client.post(url, {"verdict": "changes_requested", "comment": ""})
    assert not ClientApproval.objects.exists()
    client.post(url, {"verdict": "changes_requested", "comment": "Warmer light"})
    assert ClientApproval.objects.get().comment == "Warmer light"


def test_a_revoked_link_says_so_with_410(cast, shared):
    client = _guest(shared["token"])
    cast.client("producer").post(reverse("sharing:revoke", args=[shared["link"].pk]))
    response = client.get(
        reverse("sharing:guest-draft", args=[shared["token"], shared["first"].pk])
    )
    assert response.status_code == 410 and b"revoked" in response.content


def test_an_expired_link_says_so_with_410(shared):
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(reverse("sharing:guest", args=[shared["token"]]))
    assert response.status_code == 410 and b"expired" in response.content


def test_an_unknown_token_is_a_styled_404(db):
    response = Client().get(reverse("sharing:guest", args=["nope"]))
    assert response.status_code == 404 and b"does not exist" in response.content


def test_too_many_requests_get_a_clear_429(settings, shared):
    settings.SHARE_LINK_REQUESTS_PER_MINUTE = 3
    client = Client()
    codes = [
        client.get(reverse("sharing:guest", args=[shared["token"]])).status_code for _ in range(4)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_a_password_link_asks_for_it_and_refuses_a_wrong_one(cast, batch):
    draft = make_draft(batch)
    _, token = share_link_create(
        campaign=cast.campaign, by=cast.producer, title="Locked", drafts=[draft], password="s3cret!"
    )
    url = reverse("sharing:guest", args=[token])
    client = Client()
    wrong = client.post(url, {"password": "no", "name": "A", "email": "a@b.example"})
    assert wrong.status_code == 400 and b"not right" in wrong.content
    right = client.post(url, {"password": "s3cret!", "name": "A", "email": "a@b.example"})
    assert right.status_code == 302
    assert client.get(reverse("sharing:guest-draft", args=[token, draft.pk])).status_code == 200


def test_the_identity_is_kept_for_that_link_only(cast, shared):
    client = _guest(shared["token"])
    _, other = share_link_create(
        campaign=cast.campaign, by=cast.producer, title="Other", drafts=[shared["hidden"]]
    )
    response = client.get(reverse("sharing:guest-draft", args=[other, shared["hidden"].pk]))
    assert response.status_code == 302


def test_a_link_cannot_hold_another_campaigns_draft(cast):
    from apps.core.errors import Refusal
    from tests.factories import BatchFactory

    foreign = make_draft(BatchFactory(campaign=cast.other_campaign))
    with pytest.raises(Refusal):
        share_link_create(campaign=cast.campaign, by=cast.producer, title="x", drafts=[foreign])


def test_the_draft_page_shows_client_answers(cast, shared):
    client = _guest(shared["token"])
    url = reverse("sharing:guest-answer", args=[shared["token"], shared["first"].pk])
    client.post(url, {"verdict": "approved"})
    page = cast.client("art_director").get(reverse("drafts:detail", args=[shared["first"].pk]))
    assert b"Client answers" in page.content and b"Ana Client" in page.content


def test_members_make_links_and_see_the_address_once(cast, batch):
    draft = make_draft(batch)
    client = cast.client("producer")
    client.post(
        reverse("sharing:create", args=[cast.campaign.pk]),
        {"drafts": [draft.pk], "days": "7", "can_approve": "1"},
    )
    page = client.get(reverse("sharing:links", args=[cast.campaign.pk]))
    assert b"/share/" in page.content
    again = client.get(reverse("sharing:links", args=[cast.campaign.pk]))
    assert b"/share/" not in again.content


def test_only_the_share_urls_skip_the_login_requirement():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if p.app_name != "admin":
                    yield from walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback

    open_paths = {
        path for path, view in walk(get_resolver()) if not getattr(view, "login_required", True)
    }
    # Outside /share/ only the ways in are open: log in, password reset, single sign-on, an
    # invitation link, and the health check.
    account_pages = {
        "login/",
        "logout/",
        "healthz",
        "password/reset/",
        "password/reset/sent/",
        "password/reset/<uidb64>/<token>/",
        "password/reset/done/",
        "sso/login/",
        "sso/callback/",
        "invitations/<str:token>/",
    }
    # The REST API authenticates each request itself (session or token) and answers 401 without
    # one: tests/api/test_schema.py calls every operation anonymously.
    guest_paths = {path for path in open_paths - account_pages if not path.startswith("api/v1/")}
    assert guest_paths, "the guest pages must be open"
    assert all(path.startswith("share/<str:token>/") for path in guest_paths)


def _pack_link(cast, draft, *, can_download: bool):
    from tests.exports.builders import export_objects

    pack = export_objects(cast, draft)["pack"]
    _, token = share_link_create(
        campaign=cast.campaign,
        by=cast.producer,
        title="Summer pack",
        pack=pack,
        can_download=can_download,
    )
    return pack, token


def test_a_guest_downloads_the_channel_pack_the_link_was_made_from(cast, batch):
    from django.core.files.storage import default_storage

    pack, token = _pack_link(cast, make_draft(batch), can_download=True)
    guest = _guest(token)
    home = guest.get(reverse("sharing:guest", args=[token])).content.decode()
    url = reverse("sharing:guest-pack", args=[token])
    assert f'href="{url}"' in home and "Download the channel pack" in home
    response = guest.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'filename="{pack.filename}"')
    with default_storage.open(pack.output_key, "rb") as fh:
        assert b"".join(response.streaming_content) == fh.read()


def test_a_link_without_the_download_right_offers_no_pack(cast, batch):
    _, token = _pack_link(cast, make_draft(batch), can_download=False)
    guest = _guest(token)
    assert "Download the channel pack" not in guest.get(reverse("sharing:guest", args=[token])).text
    assert guest.get(reverse("sharing:guest-pack", args=[token])).status_code == 404


def test_an_expired_pack_is_no_longer_offered_or_served(cast, batch):
    pack, token = _pack_link(cast, make_draft(batch), can_download=True)
    type(pack).objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    guest = _guest(token)
    assert "Download the channel pack" not in guest.get(reverse("sharing:guest", args=[token])).text
    assert guest.get(reverse("sharing:guest-pack", args=[token])).status_code == 404


def test_a_link_of_drafts_only_has_no_pack_to_download(shared):
    token = shared["token"]
    assert _guest(token).get(reverse("sharing:guest-pack", args=[token])).status_code == 404
