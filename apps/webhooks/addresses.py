"""Whether a webhook URL may be called: never, by default, an address inside our own network
(private, loopback, link-local…), or a webhook could read the cloud's metadata service or an
internal admin page. Checked when the endpoint is saved and again before every send, because
a name can resolve elsewhere later (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from apps.core.errors import Refusal


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global or address.is_multicast


def url_refusal(url: str) -> str | None:
    """Why ``url`` may not receive webhooks, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http:// or https:// address."
    if parts.username or parts.password:
        return "Put no user name or password in the address; the signature authenticates us."
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return f"{parts.hostname} does not resolve."
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _internal(address):
            return (
                f"{parts.hostname} is an internal address ({address}); webhooks go to public "
                "addresses only (the WEBHOOKS_ALLOW_PRIVATE setting allows others)."
            )
    return None


def require_public_url(url: str) -> None:
    refusal = url_refusal(url)
    if refusal:
        raise Refusal(refusal)
