from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from apps.campaigns.models import AuditEvent, Campaign, Membership
from apps.campaigns.permissions import ROLE_CAPABILITIES, Can, role_can
from apps.core.forms import MAX_ID

AnyUser = User | AnonymousUser


def campaigns_for_user(user: AnyUser) -> QuerySet[Campaign]:
    if not isinstance(user, User):
        return Campaign.objects.none()
    return (
        Campaign.objects.filter(memberships__user=user)
        .annotate(
            draft_count=Count("drafts", distinct=True),
            undecided_count=Count("drafts", filter=Q(drafts__decision=""), distinct=True),
        )
        .order_by("-created_at")
    )


def campaigns_where_user_can(user: AnyUser, need: Can) -> QuerySet[Campaign]:
    """The campaigns whose membership gives ``user`` the capability (a chooser's options)."""
    if not isinstance(user, User):
        return Campaign.objects.none()
    roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if need in capabilities]
    return Campaign.objects.filter(memberships__user=user, memberships__role__in=roles).order_by(
        "name", "id"
    )


def membership_for(user: AnyUser, campaign_id: int) -> Membership | None:
    # A URL's <int:pk> can lie past the database's range: Django guards ``pk=`` lookups against
    # that, not foreign keys like ``campaign_id=``, where SQLite raises OverflowError.
    if not isinstance(user, User) or not 0 < campaign_id <= MAX_ID:
        return None
    return (
        Membership.objects.select_related("campaign")
        .filter(campaign_id=campaign_id, user=user)
        .first()
    )


def require_membership(user: AnyUser, campaign_id: int, need: Can = Can.VIEW) -> Membership:
    """404 for people outside the campaign (its existence is not revealed), 403 for members
    whose role lacks the capability."""
    membership = membership_for(user, campaign_id)
    if membership is None:
        raise Http404("No such campaign")
    if not role_can(membership.role, need):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")
    return membership


def requester_refusal(*, user_id: int | None, campaign_id: int, need: Can) -> str | None:
    """Why a job asked for by ``user_id`` must not run in this campaign now, or None.

    Jobs the system queued itself (no requester) are allowed; a person must still be an active
    member whose role has the capability the job needs."""
    if user_id is None:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(campaign_id=campaign_id, user_id=user_id, user__is_active=True)
        .first()
    )
    if membership is None:
        return "Not run: the person who asked for it is no longer a member of this campaign."
    if not role_can(membership.role, need):
        return (
            f"Not run: the person who asked for it is now {membership.get_role_display()} "
            f"in this campaign, a role that cannot {need.value.replace('_', ' ')}."
        )
    return None


def get_campaign_for_user(user: AnyUser, pk: int, *, need: Can = Can.VIEW) -> Campaign:
    return require_membership(user, pk, need).campaign


def campaign_members(campaign: Campaign) -> QuerySet[Membership]:
    return campaign.memberships.select_related("user").order_by("role", "user__username")


def campaign_activity(campaign: Campaign, *, limit: int = 100) -> QuerySet[AuditEvent]:
    return campaign.audit_events.select_related("actor")[:limit]
