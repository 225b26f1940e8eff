from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from apps.campaigns.models import Campaign, Channel, Membership
from apps.drafts.models import Batch, Draft
from apps.drafts.services import draft_intake
from tests.images import png_bytes

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    password = factory.django.Password(PASSWORD)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    brief = "Launch the new flavour."
    key_message = "Taste the cold north."
    product_requirements = "The label reads FJELL."
    brand_rules = factory.LazyFunction(lambda: ["Teal and white only.", "Product upright."])
    target_channels = factory.LazyFunction(lambda: [Channel.SQUARE, Channel.HERO])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    campaign = factory.SubFactory(CampaignFactory)
    user = factory.SubFactory(UserFactory)
    role = "reviewer"


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Batch {n}")


_colour = iter(range(1, 10_000_000))


def make_draft(batch: Batch, *, name: str = "draft.png", data: bytes | None = None, **kw) -> Draft:
    """A real draft through the real intake path; a distinct image each call."""
    if data is None:
        n = next(_colour)
        data = png_bytes(size=(96, 64), color=(n % 256, (n // 256) % 256, 90))
    result = draft_intake(batch=batch, uploaded_by=kw.pop("by", None), name=name, upload=data, **kw)
    assert result.draft is not None, result.message
    return result.draft
