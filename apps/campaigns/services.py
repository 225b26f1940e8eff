from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.channels import channels_changed
from apps.campaigns.models import AuditEvent, Campaign, Channel, Invitation, Membership, Role
from apps.core.errors import Refusal
from apps.core.people import person_name


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
    """A new campaign. Its creator owns it and joins it as art director (who may do
    everything a role can), so it is on their home page at once."""
    campaign = Campaign.objects.create(
        name=name,
        brief=brief,
        key_message=key_message,
        product_requirements=product_requirements,
        brand_rules=_clean_rules(brand_rules),
        target_channels=_clean_channels(target_channels),
        created_by=created_by,
    )
    audit_record(
        campaign=campaign, actor=created_by, verb="campaign.created", summary=f"Created {name}"
    )
    if created_by is not None:
        membership_set(campaign=campaign, user=created_by, role=Role.ART_DIRECTOR, by=created_by)
    return campaign


def _clean_rules(rules: list[str] | None) -> list[str]:
    return [r.strip()[:300] for r in rules or [] if r.strip()]


def _clean_channels(channels: list[str] | None) -> list[str]:
    # A value names a channel (``Channel``) or a channel preset by slug; the channel targets
    # (apps/campaigns/channels.py) resolve both, and show one no preset serves as written.
    values = [c.strip() for c in channels or [] if c.strip()]
    bad = [c for c in values if c not in Channel.values and not _SLUG.fullmatch(c)]
    if bad:
        raise Refusal(f"Not a channel: {', '.join(bad)}.")
    return list(dict.fromkeys(values))  # keeps their order, once each


def campaign_refuse_if_archived(campaign: Campaign) -> None:
    """Services that add to a campaign call this first: an archived campaign is read-only
    (the getters refuse first for people; this also holds for scripts and commands)."""
    if campaign.is_archived:
        raise Refusal("This campaign is archived: restore it before changing it.")


_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

CAMPAIGN_FIELDS = (
    "name",
    "brief",
    "key_message",
    "product_requirements",
    "brand_rules",
    "target_channels",
)


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User | None, **changes: Any) -> Campaign:
    """Change any of ``CAMPAIGN_FIELDS``; only fields whose value differs are written and
    named in the audit trail."""
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"campaign_update() got unknown fields {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign_refuse_if_archived(campaign)
    if "brand_rules" in changes:
        changes["brand_rules"] = _clean_rules(changes["brand_rules"])
    if "target_channels" in changes:
        changes["target_channels"] = _clean_channels(changes["target_channels"])
    if "name" in changes and not str(changes["name"]).strip():
        raise Refusal("A campaign needs a name.")
    changed = [f for f, v in changes.items() if getattr(campaign, f) != v]
    for field in changed:
        setattr(campaign, field, changes[field])
    if changed:
        campaign.save(update_fields=changed)
        if "target_channels" in changed:
            channels_changed([campaign.pk])
        labels = ", ".join(f.replace("_", " ") for f in changed)
        audit_record(
            campaign=campaign,
            actor=by,
            verb="campaign.updated",
            summary=f"Changed {labels}",
            data={"fields": changed},
        )
    return campaign


def campaign_archive(*, campaign: Campaign, by: User | None) -> bool:
    """Archive: read-only everywhere and hidden from lists. False if it already was."""
    with transaction.atomic():
        done = Campaign.objects.filter(pk=campaign.pk, archived_at__isnull=True).update(
            archived_at=timezone.now()
        )
        if done:
            audit_record(campaign=campaign, actor=by, verb="campaign.archived", summary="Archived")
    campaign.refresh_from_db(fields=["archived_at"])
    return bool(done)


def campaign_restore(*, campaign: Campaign, by: User | None) -> bool:
    with transaction.atomic():
        done = Campaign.objects.filter(pk=campaign.pk, archived_at__isnull=False).update(
            archived_at=None
        )
        if done:
            audit_record(campaign=campaign, actor=by, verb="campaign.restored", summary="Restored")
    campaign.refresh_from_db(fields=["archived_at"])
    return bool(done)


@transaction.atomic
def membership_set(
    *, campaign: Campaign, user: User, role: str, by: User | None = None
) -> Membership:
    """Add a person with a role, or change their role. A role change takes effect at once,
    also for jobs they queued: the worker asks ``requester_refusal`` before running one."""
    if role not in Role.values:
        raise Refusal(f"Unknown role: {role}.")
    campaign_refuse_if_archived(campaign)
    membership, _ = Membership.objects.update_or_create(
        campaign=campaign, user=user, defaults={"role": role}
    )
    audit_record(
        campaign=campaign,
        actor=by,
        verb="membership.set",
        summary=f"{person_name(user)} is {membership.get_role_display()}",
        target=membership,
    )
    return membership


@transaction.atomic
def membership_remove(*, campaign: Campaign, user: User, by: User | None) -> bool:
    """Take a person out of the campaign. Jobs they queued are refused by the worker
    (``requester_refusal``), their past decisions and uploads stay with their name."""
    campaign_refuse_if_archived(campaign)
    if campaign.created_by_id == user.pk:
        raise Refusal("The campaign's creator owns it and stays a member.")
    deleted, _ = Membership.objects.filter(campaign=campaign, user=user).delete()
    if deleted:
        audit_record(
            campaign=campaign,
            actor=by,
            verb="membership.removed",
            summary=f"Removed {person_name(user)}",
            data={"user_id": user.pk},
        )
    return bool(deleted)


# --- Invitations ------------------------------------------------------------------------------

INVITATION_SALT = "draftroom.campaigns.invitation"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link_token(raw: str) -> str:
    """What the e-mailed link carries: the raw token, signed with a timestamp, so a link is
    checked (and an expired one refused) before the database is asked."""
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(raw)


def invitation_url(link_token: str) -> str:
    base = settings.DRAFTROOM_BASE_URL.rstrip("/")
    return f"{base}{reverse('campaigns:invitation', args=[link_token])}"


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    link_token: str  # shown once (in the e-mail); only its hash is stored

    @property
    def url(self) -> str:
        return invitation_url(self.link_token)


@transaction.atomic
def invitation_create(*, campaign: Campaign, email: str, role: str, by: User) -> NewInvitation:
    """Invite ``email`` with ``role`` and send the link after the transaction commits.

    A new invitation to the same address replaces a pending one (the older link stops
    working), so an owner who mistyped a role simply invites again."""
    campaign_refuse_if_archived(campaign)
    email = email.strip().lower()
    if role not in Role.values:
        raise Refusal(f"Unknown role: {role}.")
    if Membership.objects.filter(campaign=campaign, user__email__iexact=email).exists():
        raise Refusal(f"{email} is already a member of this campaign.")
    now = timezone.now()
    Invitation.objects.filter(
        campaign=campaign, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        campaign=campaign,
        email=email,
        role=role,
        token_hash=_token_hash(raw),
        invited_by=by,
        expires_at=now + timedelta(seconds=settings.DRAFTROOM_INVITATION_SECONDS),
    )
    audit_record(
        campaign=campaign,
        actor=by,
        verb="invitation.created",
        summary=f"Invited {email} as {invitation.get_role_display()}",
        target=invitation,
    )
    new = NewInvitation(invitation, invitation_link_token(raw))
    who = person_name(by)
    days = max(1, settings.DRAFTROOM_INVITATION_SECONDS // 86400)
    body = (
        f'{who} invites you to the campaign "{campaign.name}" in Draftroom as '
        f"{invitation.get_role_display().lower()}.\n\nAccept within {days} days: {new.url}\n\n"
        "The link works once. If you did not expect it, ignore this e-mail."
    )
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[Draftroom] Join {campaign.name}",
            message=body,
            from_email=None,
            recipient_list=[email],
        )
    )
    return new


def invitation_for_link(link_token: str) -> Invitation:
    """The pending invitation a link names. Raises Refusal with the reason otherwise."""
    try:
        raw = signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            link_token, max_age=settings.DRAFTROOM_INVITATION_SECONDS
        )
    except signing.SignatureExpired:
        raise Refusal("This invitation has expired. Ask for a new one.") from None
    except signing.BadSignature:
        raise Refusal("This invitation link is not valid.") from None
    invitation = (
        Invitation.objects.select_related("campaign", "invited_by")
        .filter(token_hash=_token_hash(raw))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise Refusal("This invitation is no longer valid. Ask for a new one.")
    if invitation.accepted_at is not None:
        raise Refusal("This invitation has been used already.")
    if invitation.expires_at <= timezone.now():
        raise Refusal("This invitation has expired. Ask for a new one.")
    if invitation.campaign.is_archived:
        raise Refusal("This campaign is archived.")
    return invitation


@transaction.atomic
def invitation_accept(*, link_token: str, user: User) -> Membership:
    """Join the invitation's campaign as ``user`` (an existing account, or one the view
    created a moment ago in the same transaction). Single use: the invitation is claimed by
    compare-and-swap, so two tabs accepting at once give one membership and one refusal."""
    invitation = invitation_for_link(link_token)
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        raise Refusal("This invitation has been used already.")
    campaign = invitation.campaign
    existing = Membership.objects.filter(campaign=campaign, user=user).first()
    if existing is not None:
        return existing  # already in: the invitation does not change their role
    if not user.email:
        user.email = invitation.email
        user.save(update_fields=["email"])
    membership = Membership.objects.create(campaign=campaign, user=user, role=invitation.role)
    audit_record(
        campaign=campaign,
        actor=user,
        verb="invitation.accepted",
        summary=f"{person_name(user)} joined as {membership.get_role_display()}",
        target=membership,
    )
    return membership


@transaction.atomic
def invitation_accept_new_account(
    *, link_token: str, username: str, password: str
) -> tuple[User, Membership]:
    """Create the account (e-mail from the invitation) and join, in one transaction: a
    refused invitation leaves no account behind."""
    invitation = invitation_for_link(link_token)
    if User.objects.filter(username__iexact=username).exists():
        raise Refusal("That username is taken.")
    user = User.objects.create_user(username=username, email=invitation.email, password=password)
    return user, invitation_accept(link_token=link_token, user=user)


def invitation_revoke(*, invitation: Invitation, by: User | None) -> bool:
    with transaction.atomic():
        done = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if done:
            audit_record(
                campaign=invitation.campaign,
                actor=by,
                verb="invitation.revoked",
                summary=f"Withdrew the invitation to {invitation.email}",
                target=invitation,
            )
    return bool(done)


def invitations_accept_for_verified_email(*, user: User, email: str) -> list[Membership]:
    """Single sign-on: a person whose identity provider vouches for ``email`` joins every
    campaign that invited that address (the e-mail link is not needed)."""
    joined = []
    pending = Invitation.objects.filter(
        email__iexact=email.strip(),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        campaign__archived_at__isnull=True,
    )
    for invitation in pending:
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
            ).update(accepted_at=timezone.now(), accepted_by=user)
            if not claimed:
                continue
            membership, created = Membership.objects.get_or_create(
                campaign_id=invitation.campaign_id, user=user, defaults={"role": invitation.role}
            )
            if created:
                audit_record(
                    campaign=membership.campaign,
                    actor=user,
                    verb="invitation.accepted",
                    summary=(
                        f"{person_name(user)} joined as {membership.get_role_display()} "
                        "(single sign-on)"
                    ),
                    target=membership,
                )
            joined.append(membership)
    return joined
