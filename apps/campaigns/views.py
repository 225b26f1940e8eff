from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import (
    campaign_activity,
    campaign_members,
    campaigns_for_user,
    require_membership,
)
from apps.core.http import request_user
from apps.drafts.models import Decision
from apps.drafts.selectors import campaign_batches, decision_counts


def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_for_user(request.user)
    return render(request, "campaigns/list.html", {"campaigns": campaigns})


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk)
    campaign = membership.campaign
    can_sign_off = role_can(membership.role, Can.SIGN_OFF)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "membership": membership,
            "can_upload": role_can(membership.role, Can.UPLOAD),
            "can_export": role_can(membership.role, Can.EXPORT),
            "can_sign_off": can_sign_off,
            # The sign-off queue's link says how many decisions wait there.
            "awaiting_sign_off_count": campaign.drafts.exclude(
                proposed_decision=Decision.UNDECIDED
            ).count()
            if can_sign_off
            else 0,
            "batches": campaign_batches(campaign.pk),
            "counts": decision_counts(campaign.drafts.all()),
            "members": campaign_members(campaign),
            "activity": campaign_activity(campaign, limit=8),
        },
    )


def campaign_activity_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk)
    return render(
        request,
        "campaigns/activity.html",
        {"campaign": membership.campaign, "activity": campaign_activity(membership.campaign)},
    )
