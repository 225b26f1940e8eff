"""Writes for share links and clients' answers. Every write is in the campaign's audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Campaign, Membership
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.services import audit_record
from apps.core.errors import Refusal
from apps.core.people import person_name
from apps.drafts.models import Draft
from apps.exports.models import Pack
from apps.exports.selectors import kept_drafts, pack_draft_ids
from apps.rework.models import NotificationKind
from apps.rework.services import notification_send
from apps.sharing.models import ClientApproval, ShareLink, Verdict
from apps.sharing.selectors import token_hash

# A client review takes days, not months; a longer-lived link is a forgotten open door.
MAX_DAYS = 90
COMMENT_MAX = 4000


@transaction.atomic
def share_link_create(
    *,
    campaign: Campaign,
    by: User,
    title: str,
    drafts: Iterable[Draft] = (),
    pack: Pack | None = None,
    days: int = 14,
    password: str = "",
    can_comment: bool = True,
    can_approve: bool = True,
    can_download: bool = False,
) -> tuple[ShareLink, str]:
    """A new link and its token (returned once: only its hash is stored)."""
    chosen = list(drafts)
    if pack is not None:
        if pack.campaign_id != campaign.pk:
            raise Refusal("That pack belongs to another campaign.")
        ids = pack_draft_ids(pack)
        if ids is None:
            ids = (
                [pack.draft_id]
                if pack.draft_id
                else list(kept_drafts(campaign=campaign).values_list("pk", flat=True))
            )
        chosen += list(Draft.objects.filter(pk__in=ids, campaign=campaign))
    if any(d.campaign_id != campaign.pk for d in chosen):
        raise Refusal("A share link can only hold drafts of its own campaign.")
    if not chosen:
        raise Refusal("Choose at least one draft (or a pack) to share.")
    if not 1 <= days <= MAX_DAYS:
        raise Refusal(f"A link lives between 1 and {MAX_DAYS} days.")
    title = title.strip()[:200] or f"{campaign.name} for review"
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        campaign=campaign,
        pack=pack,
        title=title,
        token_hash=token_hash(token),
        password_hash=make_password(password) if password else "",
        can_comment=can_comment,
        can_approve=can_approve,
        can_download=can_download,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=by,
    )
    link.drafts.set({d.pk for d in chosen})
    audit_record(
        campaign=campaign,
        actor=by,
        verb="share.created",
        summary=f"{person_name(by)} shared {len({d.pk for d in chosen})} drafts as “{title}”",
        target=link,
        data={"drafts": sorted({d.pk for d in chosen}), "rights": link.rights, "days": days},
    )
    return link, token


def share_link_revoke(*, link: ShareLink, by: User) -> ShareLink:
    # Compare-and-swap: two people revoking at once record one revocation.
    changed = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    link.refresh_from_db()
    if changed:
        audit_record(
            campaign=link.campaign,
            actor=by,
            verb="share.revoked",
            summary=f"{person_name(by)} revoked the share link “{link.title}”",
            target=link,
        )
    return link


def share_link_password_ok(link: ShareLink, password: str) -> bool:
    return not link.password_hash or check_password(password, link.password_hash)


def guest_identity_clean(*, name: str, email: str) -> tuple[str, str]:
    name, email = name.strip()[:120], email.strip()[:254]
    if not name:
        raise Refusal("Please give your name.")
    try:
        validate_email(email)
    except ValidationError:
        raise Refusal("Please give a valid e-mail address.") from None
    return name, email


def share_link_opened(*, link: ShareLink, name: str, email: str, address: str) -> None:
    audit_record(
        campaign=link.campaign,
        actor=None,
        verb="share.opened",
        summary=f"Guest {name} <{email}> opened the share link “{link.title}”",
        target=link,
        data={"guest": name, "email": email, "address": address},
    )


@transaction.atomic
def client_answer(
    *,
    link: ShareLink,
    draft: Draft,
    name: str,
    email: str,
    verdict: str,
    comment: str = "",
) -> ClientApproval:
    """A guest's approval, request for changes or comment on one draft of the link."""
    if verdict not in Verdict.values:
        raise Refusal("Choose approve, request changes or comment.")
    if verdict == Verdict.COMMENT and not link.can_comment:
        raise Refusal("This link does not allow comments.")
    if verdict != Verdict.COMMENT and not link.can_approve:
        raise Refusal("This link is for viewing; it does not take approvals.")
    comment = comment.strip()[:COMMENT_MAX]
    if comment and not (link.can_comment or verdict == Verdict.CHANGES_REQUESTED):
        raise Refusal("This link does not allow comments.")
    if verdict in (Verdict.CHANGES_REQUESTED, Verdict.COMMENT) and not comment:
        raise Refusal(
            "Please say what should change."
            if verdict != Verdict.COMMENT
            else "Please write a comment."
        )
    if not link.drafts.filter(pk=draft.pk).exists():
        raise Refusal("That draft is not in this link.")
    answer = ClientApproval.objects.create(
        link=link,
        draft=draft,
        guest_name=name,
        guest_email=email,
        verdict=verdict,
        comment=comment,
    )
    label = Verdict(verdict).label
    audit_record(
        campaign=draft.campaign,
        actor=None,
        verb=f"client.{verdict}",
        summary=f"Client {name} <{email}>: {label} on “{draft.original_name}”",
        target=draft,
        data={"link": link.pk, "guest": name, "email": email, "comment": comment},
    )
    url = reverse("drafts:detail", args=[draft.pk])
    memberships = Membership.objects.filter(campaign_id=draft.campaign_id).select_related("user")
    # Art directors and producers: the roles that hand work over to clients (Can.EXPORT).
    for m in memberships:
        if role_can(m.role, Can.EXPORT):
            notification_send(
                recipient=m.user,
                kind=NotificationKind.DECISION,
                title=f"Client {name}: {label} on “{draft.original_name}”",
                body=comment,
                url=url,
                campaign=draft.campaign,
            )
    return answer
