"""Reads for share links: the token lookup, the guest's draft getter, answers per draft."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from apps.campaigns.models import Campaign
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import AnyUser, require_membership
from apps.drafts.models import Draft
from apps.drafts.selectors import Scoped
from apps.sharing.models import ClientApproval, ShareLink


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def share_link_for_token(token: str) -> ShareLink | None:
    return (
        ShareLink.objects.select_related("campaign", "pack").filter(token_hash=token_hash(token))
    ).first()


def link_drafts(link: ShareLink) -> QuerySet[Draft]:
    return link.drafts.select_related("batch").order_by("id")


def get_draft_for_guest(link: ShareLink, pk: int) -> Draft:
    """The guest's permission-scoped getter: only a draft the link names, else 404 (a guest
    must not learn that other drafts exist)."""
    draft = link_drafts(link).filter(pk=pk, campaign_id=link.campaign_id).first()
    if draft is None:
        raise Http404("No such draft in this link")
    return draft


def get_share_link_for_user(user: AnyUser, pk: int, *, need: Can = Can.EXPORT) -> Scoped[ShareLink]:
    link = ShareLink.objects.select_related("campaign").filter(pk=pk).first()
    if link is None:
        raise Http404("No such share link")
    return Scoped(link, require_membership(user, link.campaign_id, need))


def campaign_share_links(campaign: Campaign) -> QuerySet[ShareLink]:
    return (
        ShareLink.objects.filter(campaign=campaign)
        .select_related("created_by", "revoked_by", "pack")
        .prefetch_related("drafts")
    )


def client_approvals(draft: Draft) -> list[ClientApproval]:
    return list(ClientApproval.objects.filter(draft=draft).select_related("link"))


def client_approvals_json(draft: Draft) -> list[dict[str, Any]]:
    """The record's, the manifest's and the deck's view of clients' answers."""
    return [a.as_json() for a in client_approvals(draft)]


def latest_client_verdict(draft: Draft) -> ClientApproval | None:
    return (
        ClientApproval.objects.filter(draft=draft)
        .exclude(verdict="comment")
        .order_by("-created_at", "-id")
        .first()
    )
