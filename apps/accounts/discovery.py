"""Reading an OpenID Connect provider's discovery document into Draftroom's OIDC settings.

mozilla-django-oidc takes each endpoint as its own setting; providers publish them all at
``<issuer>/.well-known/openid-configuration``. ``manage.py oidc_discover ISSUER`` reads that
document once, checks that Draftroom can log in through the provider (authorization code flow,
PKCE with S256, the signing algorithm) and prints the settings to put in the environment.
Nothing is fetched while Draftroom runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

WELL_KNOWN = "/.well-known/openid-configuration"

# Draftroom's setting ← the discovery document's field.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class DiscoveryError(Exception):
    """The provider's document could not be read, or says Draftroom cannot log in through it."""


@dataclass(frozen=True)
class Discovered:
    issuer: str
    settings: dict[str, str]  # what to set, in ENDPOINTS' order, then the signing algorithm
    notes: list[str]  # what the person should know (nothing that stops the login)


def discovery_url(issuer: str) -> str:
    issuer = issuer.strip()
    if not issuer.startswith(("https://", "http://")):
        raise DiscoveryError(f"“{issuer}” is not an http(s) address of a provider.")
    if issuer.rstrip("/").endswith(WELL_KNOWN):
        return issuer
    return issuer.rstrip("/") + WELL_KNOWN


def oidc_discover(issuer: str, *, sign_algo: str = "RS256", timeout: float = 10) -> Discovered:
    url = discovery_url(issuer)
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise DiscoveryError(f"Could not reach {url}: {exc}") from exc
    if response.status_code != 200:
        raise DiscoveryError(f"{url} answered HTTP {response.status_code}, not the document.")
    try:
        document: dict[str, Any] = response.json()
    except ValueError as exc:
        raise DiscoveryError(f"{url} did not answer JSON.") from exc
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} did not answer a discovery document.")
    return discovered_settings(document, sign_algo=sign_algo, source=url)


def discovered_settings(
    document: dict[str, Any], *, sign_algo: str = "RS256", source: str = "the document"
) -> Discovered:
    missing = [field for field in ENDPOINTS.values() if not document.get(field)]
    if missing:
        raise DiscoveryError(f"{source} names no {', '.join(missing)}.")
    for field in ENDPOINTS.values():
        if not str(document[field]).startswith(("https://", "http://")):
            raise DiscoveryError(f"{source}: {field} is not an http(s) address.")
    types = document.get("response_types_supported") or []
    if "code" not in types:
        raise DiscoveryError(
            f"{source}: the provider does not offer the authorization code flow Draftroom uses "
            f"(response types: {', '.join(map(str, types)) or 'none listed'})."
        )
    notes: list[str] = []
    algorithms = document.get("id_token_signing_alg_values_supported") or []
    if algorithms and sign_algo not in algorithms:
        preferred = "RS256" if "RS256" in algorithms else str(algorithms[0])
        notes.append(
            f"The provider signs ID tokens with {', '.join(map(str, algorithms))}, not "
            f"{sign_algo}: OIDC_RP_SIGN_ALGO={preferred} below."
        )
        sign_algo = preferred
    methods = document.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        notes.append(
            "The provider does not list PKCE with S256; Draftroom sends it, and a provider "
            "that refuses it will say so at the first login."
        )
    if sign_algo.startswith("HS"):
        notes.append("HS* tokens are checked with the client secret: no JWKS is used.")
    settings = {name: str(document[field]) for name, field in ENDPOINTS.items()}
    settings["OIDC_RP_SIGN_ALGO"] = sign_algo
    return Discovered(str(document.get("issuer", "")), settings, notes)
