from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.campaigns.models import AuditEvent, Campaign, Invitation, Membership
from apps.campaigns.permissions import ARCHIVED_CAPABILITIES, Can, is_owner, role_can
from apps.core.forms import MAX_ID

AnyUser = User | AnonymousUser


def campaigns_for_user(user: AnyUser) -> QuerySet[Campaign]:
    if not isinstance(user, User):
        return Campaign.objects.none()
    return (
        Campaign.objects.filter(memberships__user=user, archived_at__isnull=True)
        .annotate(
            draft_count=Count("drafts", distinct=True),
            undecided_count=Count("drafts", filter=Q(drafts__decision=""), distinct=True),
        )
        .order_by("-created_at")
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
    campaign = membership.campaign
    if campaign.is_archived and need not in ARCHIVED_CAPABILITIES:
        raise PermissionDenied(
            "This campaign is archived: it is read-only until an owner restores it."
        )
    if need == Can.OWN:
        if not is_owner(user, campaign):
            raise PermissionDenied("Only the campaign's owner or staff can change the campaign.")
    elif not role_can(membership.role, need):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")
    return membership


def requester_refusal(*, user_id: int | None, campaign_id: int, need: Can) -> str | None:
    """Why a job asked for by ``user_id`` must not run in this campaign now, or None.

    Jobs the system queued itself (no requester) are allowed; a person must still be an active
    member whose role has the capability the job needs."""
    if user_id is None:
        return None
    if Campaign.objects.filter(pk=campaign_id, archived_at__isnull=False).exists():
        return "Not run: the campaign is archived."
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


def get_campaign_for_owner(user: AnyUser, pk: int) -> Campaign:
    """The campaign, for its owner (its creator, or staff even outside it).

    404 for people outside it (as every getter), 403 for members who do not own it."""
    if not isinstance(user, User) or not 0 < pk <= MAX_ID:
        raise Http404("No such campaign")
    if user.is_staff and user.is_active:
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise Http404("No such campaign")
        return campaign
    return require_membership(user, pk, Can.OWN).campaign


def archived_campaigns_for_owner(user: AnyUser) -> QuerySet[Campaign]:
    if not isinstance(user, User):
        return Campaign.objects.none()
    archived = Campaign.objects.filter(archived_at__isnull=False)
    if not user.is_staff:
        archived = archived.filter(created_by=user)
    return archived.order_by("-archived_at")


def pending_invitations(campaign: Campaign) -> QuerySet[Invitation]:
    return campaign.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def has_pending_invitation(email: str) -> bool:
    return Invitation.objects.filter(
        email__iexact=email.strip(),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        campaign__archived_at__isnull=True,
    ).exists()


def campaign_members(campaign: Campaign) -> QuerySet[Membership]:
    return campaign.memberships.select_related("user").order_by("role", "user__username")


def campaign_activity(campaign: Campaign, *, limit: int = 100) -> QuerySet[AuditEvent]:
    return campaign.audit_events.select_related("actor")[:limit]
