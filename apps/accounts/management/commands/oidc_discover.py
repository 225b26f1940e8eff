"""``manage.py oidc_discover ISSUER``: print the OIDC settings a provider's discovery document
gives (apps/accounts/discovery.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.discovery import DiscoveryError, oidc_discover


class Command(BaseCommand):
    help = (
        "Read an OpenID Connect provider's discovery document "
        "(ISSUER/.well-known/openid-configuration) and print the OIDC_* settings for it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("issuer", help="the provider's issuer URL (or its discovery URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            found = oidc_discover(options["issuer"], sign_algo=settings.OIDC_RP_SIGN_ALGO)
        except DiscoveryError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Provider {found.issuer or options['issuer']}: add to the environment")
        self.stderr.write("(with OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET from the provider):")
        for note in found.notes:
            self.stderr.write(f"Note: {note}")
        for name, value in found.settings.items():
            self.stdout.write(f"{name}={value}")
