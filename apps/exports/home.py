"""The exports app's part of the "my campaigns" home: kept drafts that have no channel
versions yet, and packs ready to download."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.home import Waiting
from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can, role_can
from apps.core.models import JobStatus
from apps.drafts.models import Decision, Draft
from apps.exports.models import Pack


def export_waiting(user: User, memberships: Sequence[Membership]) -> dict[int, list[Waiting]]:
    exporting = [m.campaign_id for m in memberships if role_can(m.role, Can.EXPORT)]
    if not exporting:
        return {}
    to_export = (
        Draft.objects.filter(campaign_id__in=exporting, decision=Decision.KEEP)
        .annotate(versions=Count("channel_versions"))
        .filter(versions=0)
        .values("campaign_id")
        .annotate(n=Count("pk", distinct=True))
    )
    packs = (
        Pack.objects.filter(campaign_id__in=exporting, status=JobStatus.DONE)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .values("campaign_id")
        .annotate(n=Count("pk"))
    )
    found: dict[int, list[Waiting]] = {}
    for row in to_export:
        url = reverse("exports:packs", args=[row["campaign_id"]])
        found.setdefault(row["campaign_id"], []).append(
            Waiting(row["n"], "kept drafts to export", url, order=40)
        )
    for row in packs:
        url = reverse("exports:packs", args=[row["campaign_id"]])
        found.setdefault(row["campaign_id"], []).append(
            Waiting(row["n"], "packs ready", url, order=50)
        )
    return found
