from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from apps.campaigns.models import Campaign, Membership
from apps.exports.services import preset_defaults_ensure
from tests.factories import BatchFactory, CampaignFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Every test gets its own storage folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": "/media-not-served/"},
        },
    }


@dataclass
class Cast:
    campaign: Campaign
    other_campaign: Campaign
    creator: AbstractBaseUser
    reviewer: AbstractBaseUser
    art_director: AbstractBaseUser
    producer: AbstractBaseUser
    outsider: AbstractBaseUser  # a member of another campaign only

    def client(self, who: str) -> Client:
        client = Client()
        client.force_login(getattr(self, who))
        return client

    def membership(self, who: str) -> Membership:
        return Membership.objects.get(user=getattr(self, who))


ROLES = ("creator", "reviewer", "art_director", "producer")


@pytest.fixture
def channel_presets(db) -> None:
    """The default channel presets, the one source of channel sizes: transactional tests
    elsewhere flush the rows the migration wrote, so put them back."""
    preset_defaults_ensure()


@pytest.fixture
def cast(db) -> Cast:
    campaign = CampaignFactory(name="Fjell summer")
    other = CampaignFactory(name="Someone else's campaign")
    people = {}
    for role in ROLES:
        people[role] = UserFactory(username=role)
        MembershipFactory(campaign=campaign, user=people[role], role=role)
    outsider = UserFactory(username="outsider")
    MembershipFactory(campaign=other, user=outsider, role="art_director")
    return Cast(campaign=campaign, other_campaign=other, outsider=outsider, **people)


@pytest.fixture
def batch(cast):
    return BatchFactory(campaign=cast.campaign, name="Round 1")


@pytest.fixture
def s3_bucket(settings):  # type: ignore[no-untyped-def]
    """The default storage on an in-process moto bucket ("media"), with the production S3
    options."""
    import boto3
    from moto import mock_aws

    from tests.s3 import REGION, s3_storages

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="media")
        settings.STORAGES = s3_storages(settings, bucket="media")
        yield "media"
