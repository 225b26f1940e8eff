"""The rework app's part of the "my campaigns" home: rework assigned to me and still open."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db.models import Count
from django.urls import reverse

from apps.campaigns.home import Waiting
from apps.campaigns.models import Membership
from apps.rework.models import Assignment, AssignmentStatus


def rework_waiting(user: User, memberships: Sequence[Membership]) -> dict[int, list[Waiting]]:
    rows = (
        Assignment.objects.filter(
            assignee=user,
            status=AssignmentStatus.OPEN,
            campaign_id__in=[m.campaign_id for m in memberships],
        )
        .values("campaign_id")
        .annotate(n=Count("pk"))
    )
    url = reverse("rework:inbox")
    return {r["campaign_id"]: [Waiting(r["n"], "open rework for you", url, order=30)] for r in rows}
