"""A real OpenID Connect provider for the single sign-on tests, in a subprocess.

It is a small Django project (tests/accounts/oidc_provider) running django-oauth-toolkit:
migrated into a temporary SQLite file, seeded with a client whose redirect URI is the live
server's callback, and served by ``runserver`` on a free port. Draftroom's settings then
point at its endpoints.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.accounts import oidc_provider as oidc

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    url: str
    client_id: str
    client_secret: str
    password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def oidc_provider(live_server, tmp_path, settings) -> Iterator[Provider]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.accounts.oidc_provider.settings",
        "PROVIDER_DB": str(tmp_path / "provider.sqlite3"),
        "PROVIDER_RSA_KEY": _rsa_pem(),
    }
    run = {"env": env, "cwd": ROOT, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], **run)
    callback = f"{live_server.url}/sso/callback/"
    subprocess.run([sys.executable, "-m", "tests.accounts.oidc_provider.seed", callback], **run)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "provider.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/o/.well-known/jwks.json", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError((tmp_path / "provider.log").read_text())
            time.sleep(0.2)
        settings.OIDC_RP_CLIENT_ID = oidc.CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = oidc.CLIENT_SECRET
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{url}/o/authorize/"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{url}/o/token/"
        settings.OIDC_OP_USER_ENDPOINT = f"{url}/o/userinfo/"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{url}/o/.well-known/jwks.json"
        settings.OIDC_PROVIDER_NAME = "Fjell login"
        yield Provider(url, oidc.CLIENT_ID, oidc.CLIENT_SECRET, oidc.PASSWORD)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
