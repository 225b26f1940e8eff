"""The reviews app's part of the "my campaigns" home: drafts to decide, decisions to sign off."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.urls import reverse

from apps.campaigns.home import Waiting
from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.drafts.models import Draft


def review_waiting(user: User, memberships: Sequence[Membership]) -> dict[int, list[Waiting]]:
    reviewing = [m.campaign_id for m in memberships if role_can(m.role, Can.REVIEW)]
    signing = {m.campaign_id for m in memberships if role_can(m.role, Can.SIGN_OFF)}
    if not reviewing:
        return {}
    rows = (
        Draft.objects.filter(campaign_id__in=reviewing)
        .values("campaign_id")
        .annotate(
            undecided=Count("pk", filter=Q(decision="")),
            awaiting=Count("pk", filter=~Q(proposed_decision="")),
        )
    )
    found: dict[int, list[Waiting]] = {}
    for row in rows:
        url = reverse("campaigns:detail", args=[row["campaign_id"]])
        items = [Waiting(row["undecided"], "drafts to decide", url, order=10)]
        if row["campaign_id"] in signing:
            items.append(Waiting(row["awaiting"], "decisions to sign off", url, order=20))
        found[row["campaign_id"]] = items
    return found
