"""Reading a provider's discovery document into the OIDC settings (apps/accounts/discovery.py,
``manage.py oidc_discover``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.discovery import DiscoveryError, discovered_settings, discovery_url
from tests.accounts.provider import oidc_provider  # noqa: F401 - the fixture

DOCUMENT = {
    "issuer": "https://login.example.com",
    "authorization_endpoint": "https://login.example.com/authorize",
    "token_endpoint": "https://login.example.com/token",
    "userinfo_endpoint": "https://login.example.com/userinfo",
    "jwks_uri": "https://login.example.com/jwks",
    "response_types_supported": ["code", "id_token"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "code_challenge_methods_supported": ["S256"],
}


def test_the_discovery_address_is_found_from_the_issuer_or_taken_as_given():
    assert discovery_url("https://login.example.com/") == (
        "https://login.example.com/.well-known/openid-configuration"
    )
    given = "https://x.example/tenant/.well-known/openid-configuration"
    assert discovery_url(given) == given
    with pytest.raises(DiscoveryError, match="not an http"):
        discovery_url("login.example.com")


def test_a_complete_document_gives_every_endpoint_setting_and_the_algorithm():
    found = discovered_settings(DOCUMENT)
    assert found.settings == {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.example.com/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": "https://login.example.com/token",
        "OIDC_OP_USER_ENDPOINT": "https://login.example.com/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": "https://login.example.com/jwks",
        "OIDC_RP_SIGN_ALGO": "RS256",
    }
    assert found.notes == []


def test_a_provider_signing_with_another_algorithm_gets_that_algorithm_and_a_note():
    found = discovered_settings({**DOCUMENT, "id_token_signing_alg_values_supported": ["ES256"]})
    assert found.settings["OIDC_RP_SIGN_ALGO"] == "ES256"
    assert "ES256" in found.notes[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jwks_uri": ""}, "names no jwks_uri"),
        ({"response_types_supported": ["id_token"]}, "authorization code flow"),
        ({"token_endpoint": "ftp://login.example.com/token"}, "not an http"),
    ],
)
def test_a_document_draftroom_cannot_log_in_through_is_refused_saying_why(change, message):
    with pytest.raises(DiscoveryError, match=message):
        discovered_settings({**DOCUMENT, **change})


def test_the_command_reads_a_real_providers_document(oidc_provider, settings):  # noqa: F811
    out, err = io.StringIO(), io.StringIO()
    call_command("oidc_discover", f"{oidc_provider.url}/o", stdout=out, stderr=err)
    printed = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    # The same endpoints the single sign-on tests log in through.
    assert printed["OIDC_OP_AUTHORIZATION_ENDPOINT"] == settings.OIDC_OP_AUTHORIZATION_ENDPOINT
    assert printed["OIDC_OP_TOKEN_ENDPOINT"] == settings.OIDC_OP_TOKEN_ENDPOINT
    assert printed["OIDC_OP_USER_ENDPOINT"] == settings.OIDC_OP_USER_ENDPOINT
    assert printed["OIDC_OP_JWKS_ENDPOINT"] == settings.OIDC_OP_JWKS_ENDPOINT
    assert printed["OIDC_RP_SIGN_ALGO"] == "RS256"
    assert "OIDC_RP_CLIENT_ID" in err.getvalue()


def test_the_command_says_why_when_the_address_is_no_provider(live_server):
    with pytest.raises(CommandError, match="HTTP 404"):
        call_command("oidc_discover", f"{live_server.url}/nothing-here")
