from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from apps.campaigns.models import AuditEvent, Campaign, Membership


def audit_record(
    *,
    campaign: Campaign,
    actor: User | None,
    verb: str,
    summary: str,
    target: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        campaign=campaign,
        actor=actor,
        verb=verb,
        summary=summary[:500],
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=getattr(target, "pk", None),
        data=data or {},
    )


@transaction.atomic
def campaign_create(
    *,
    name: str,
    brief: str = "",
    key_message: str = "",
    product_requirements: str = "",
    brand_rules: list[str] | None = None,
    target_channels: list[str] | None = None,
    created_by: User | None = None,
) -> Campaign:
    campaign = Campaign.objects.create(
        name=name,
        brief=brief,
        key_message=key_message,
        product_requirements=product_requirements,
        brand_rules=list(brand_rules or []),
        target_channels=list(target_channels or []),
    )
    audit_record(
        campaign=campaign, actor=created_by, verb="campaign.created", summary=f"Created {name}"
    )
    return campaign


@transaction.atomic
def membership_set(
    *, campaign: Campaign, user: User, role: str, by: User | None = None
) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        campaign=campaign, user=user, defaults={"role": role}
    )
    audit_record(
        campaign=campaign,
        actor=by,
        verb="membership.set",
        summary=f"{user.get_username()} is {membership.get_role_display()}",
        target=membership,
    )
    return membership
