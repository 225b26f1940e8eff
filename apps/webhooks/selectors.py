from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from apps.campaigns.models import Campaign
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


def campaign_endpoints(campaign: Campaign) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(campaign=campaign)


def campaign_deliveries(campaign: Campaign, *, limit: int = 50) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__campaign=campaign).select_related("endpoint")[
        :limit
    ]


def endpoint_in(campaign: Campaign, pk: int | None) -> WebhookEndpoint:
    """An endpoint of this campaign (the caller checked the person's right to the campaign)."""
    endpoint = WebhookEndpoint.objects.filter(campaign=campaign, pk=pk).first() if pk else None
    if endpoint is None:
        raise Http404("No such webhook")
    return endpoint


def delivery_in(campaign: Campaign, pk: int | None) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(endpoint__campaign=campaign, pk=pk)
        .first()
        if pk
        else None
    )
    if delivery is None:
        raise Http404("No such delivery")
    return delivery
