from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.campaigns.permissions import Can
from apps.campaigns.selectors import require_membership
from apps.core.errors import Refusal
from apps.core.forms import parse_id
from apps.core.http import refuse, request_user
from apps.webhooks.models import EventType
from apps.webhooks.selectors import (
    campaign_deliveries,
    campaign_endpoints,
    delivery_in,
    endpoint_in,
)
from apps.webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_resume,
)


def webhooks_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Art directors add endpoints, see every delivery's result, redeliver and resume."""
    user = request_user(request)
    campaign = require_membership(user, pk, Can.SIGN_OFF).campaign
    back = reverse("webhooks:page", args=[pk])
    if request.method == "POST":
        action = request.POST.get("action", "")
        target = parse_id(request.POST.get("id", ""))
        try:
            if action == "create":
                endpoint_create(
                    campaign=campaign,
                    by=user,
                    url=request.POST.get("url", ""),
                    events=request.POST.getlist("events"),
                    description=request.POST.get("description", ""),
                )
                messages.success(request, "Webhook added: its signing secret is shown below.")
            elif action == "delete":
                endpoint_delete(endpoint=endpoint_in(campaign, target), by=user)
                messages.success(request, "Webhook removed.")
            elif action == "resume":
                endpoint_resume(endpoint=endpoint_in(campaign, target), by=user)
                messages.success(request, "Webhook resumed.")
            elif action == "redeliver":
                delivery_redeliver(delivery=delivery_in(campaign, target), by=user)
                messages.success(request, "Sent again.")
            else:
                raise Refusal("Unknown action.")
        except Refusal as exc:
            return refuse(request, exc, back=back, prefix="Not done: ")
        return redirect(back)
    context = {
        "campaign": campaign,
        "endpoints": campaign_endpoints(campaign),
        "deliveries": campaign_deliveries(campaign),
        "event_types": EventType.choices,
    }
    return render(request, "webhooks/page.html", context)
