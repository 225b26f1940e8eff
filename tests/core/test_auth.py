from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_correct_login_goes_to_the_campaign_list(client, cast):
    response = _login(client, "reviewer", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("campaigns:list")


def test_repeated_failures_for_one_username_are_throttled(client, cast, settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        assert _login(client, "reviewer", "wrong").status_code == 200
    blocked = _login(client, "reviewer", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    # Another person on the same address is not locked out by someone else's typos.
    assert _login(client, "producer", PASSWORD).status_code == 302
    cache.clear()


def test_login_pages_carry_the_content_security_policy(client, db):
    response = client.get(reverse("login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
