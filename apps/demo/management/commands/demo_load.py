from typing import Any

from django.core.management.base import BaseCommand

from apps.demo.services import DEMO_PEOPLE, demo_load


class Command(BaseCommand):
    help = "Create the demo people and campaign (idempotent) and print the logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--drafts", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = demo_load(drafts=options["drafts"])
        self.stdout.write(f"Demo campaign: {campaign.name} ({campaign.drafts.count()} drafts)")
        self.stdout.write("Demo logins (username / password — role):")
        for person in DEMO_PEOPLE:
            role = person.role.replace("_", " ") if person.role else "staff admin"
            self.stdout.write(f"  {person.username:<6} / {person.password:<16} — {role}")
