"""The demo: people for every role, one campaign with a brief and brand rules, and a batch of
drafts rendered on the spot (no downloads). Loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.campaigns.models import Campaign, Channel, Role
from apps.campaigns.services import campaign_create, membership_set
from apps.drafts.services import batch_create, draft_intake
from workers.demo_art import render_demo_drafts

DEMO_CAMPAIGN = "Fjell Sparkling — summer launch"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: str | None  # None: staff admin
    password: str


DEMO_PEOPLE = (
    DemoPerson("ada", "Ada Art-Director", Role.ART_DIRECTOR, "draftroom-ada"),
    DemoPerson("rhea", "Rhea Reviewer", Role.REVIEWER, "draftroom-rhea"),
    DemoPerson("cora", "Cora Creator", Role.CREATOR, "draftroom-cora"),
    DemoPerson("pim", "Pim Producer", Role.PRODUCER, "draftroom-pim"),
    DemoPerson("admin", "Staff Admin", None, "draftroom-admin"),
)


def demo_load(*, drafts: int = 10) -> Campaign:
    User = get_user_model()
    with transaction.atomic():
        users = {}
        for person in DEMO_PEOPLE:
            first, _, last = person.full_name.partition(" ")
            user, created = User.objects.get_or_create(
                username=person.username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(person.password)
                user.is_staff = user.is_superuser = person.role is None
                user.save()
            users[person.username] = user
        campaign = Campaign.objects.filter(name=DEMO_CAMPAIGN).first()
        if campaign is not None:
            return campaign
        campaign = campaign_create(
            name=DEMO_CAMPAIGN,
            brief=(
                "Launch Fjell Sparkling's new cloudberry flavour for the summer. Bright, cold, "
                "outdoorsy: the can or bottle is the hero, shot against Nordic mountain light. "
                "We need one hero image per channel, from web banner to social."
            ),
            key_message="Taste the cold north — cloudberry, nothing added.",
            product_requirements=(
                "The label must read FJELL and show the cloudberry. Can: 330 ml, matte teal. "
                "No glass bottles in this campaign."
            ),
            brand_rules=[
                "Teal, white and cloudberry orange only; no purple or neon.",
                "The product is upright, unobstructed and in focus.",
                "Outdoor daylight; no night or studio-black backdrops.",
                "No people's faces in launch visuals.",
                "Leave clear space above the product for the headline.",
            ],
            target_channels=[
                Channel.SQUARE,
                Channel.SOCIAL,
                Channel.VERTICAL,
                Channel.WIDESCREEN,
                Channel.HERO,
                Channel.PRODUCT_CARD,
                Channel.PRESENTATION,
            ],
            # Ada owns the demo: she edits it and invites people from the campaign page.
            created_by=users["ada"],
        )
        for person in DEMO_PEOPLE:
            if person.role:
                membership_set(
                    campaign=campaign,
                    user=users[person.username],
                    role=person.role,
                    by=users["admin"],
                )
        batch = batch_create(
            campaign=campaign, name="Round 1 — first drafts", created_by=users["cora"]
        )
    for art in render_demo_drafts(count=drafts):
        # Each file in its own transaction, like a real upload; previews go to the worker.
        draft_intake(batch=batch, uploaded_by=users["cora"], name=art.filename, upload=art.data)
    return campaign
