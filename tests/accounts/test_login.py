"""Password login, its switch, password reset by e-mail, and the SSO views' guard."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD


def test_password_login_can_be_turned_off(cast, settings):
    settings.DRAFTROOM_PASSWORD_LOGIN = False
    settings.OIDC_RP_CLIENT_ID = "draftroom"
    client = Client()
    page = client.get(reverse("login"))
    assert 'name="password"' not in page.text and "sso-login" in page.text
    client.post(reverse("login"), {"username": "reviewer", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_password_login_works_by_default(cast):
    client = Client()
    response = client.post(reverse("login"), {"username": "reviewer", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_single_sign_on_is_not_found_until_configured(db):
    assert Client().get(reverse("accounts:sso-login")).status_code == 404
    assert Client().get(reverse("accounts:sso-callback")).status_code == 404


def test_a_password_is_reset_through_the_e_mailed_link(cast):
    cast.reviewer.email = "rhea@example.com"
    cast.reviewer.save()
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "rhea@example.com"})
    assert response.url == reverse("password_reset_done")
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    page = client.get(link, follow=True)  # Django swaps the token for a session marker
    assert "Choose a new password" in page.text
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "fresh-snow-line-7", "new_password2": "fresh-snow-line-7"},
    )
    assert done.url == reverse("password_reset_complete")
    assert Client().login(username="reviewer", password="fresh-snow-line-7")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done") and not mail.outbox


def test_a_wrong_password_keeps_the_username_and_focuses_the_password(cast):
    response = Client().post(reverse("login"), {"username": "reviewer", "password": "wrong"})
    assert response.status_code == 200
    assert "didn't match" in response.text
    username = re.search(r'<input type="text" name="username"[^>]*>', response.text)
    password = re.search(r'<input type="password" name="password"[^>]*>', response.text)
    assert username is not None and password is not None
    assert 'value="reviewer"' in username.group(0) and "autofocus" not in username.group(0)
    assert "autofocus" in password.group(0)
