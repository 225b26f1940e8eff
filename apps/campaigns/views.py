from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.campaigns.forms import CampaignForm, InviteForm, NewAccountForm, RoleForm
from apps.campaigns.home import waiting_for
from apps.campaigns.models import Campaign, Invitation, Membership
from apps.campaigns.permissions import Can, can_create_campaigns, is_owner, role_can
from apps.campaigns.selectors import (
    archived_campaigns_for_owner,
    campaign_activity,
    campaign_members,
    campaigns_for_user,
    get_campaign_for_owner,
    membership_for,
    pending_invitations,
    require_membership,
)
from apps.campaigns.services import (
    campaign_archive,
    campaign_create,
    campaign_restore,
    campaign_update,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_for_link,
    invitation_revoke,
    membership_remove,
    membership_set,
)
from apps.core.errors import Refusal
from apps.core.http import refuse, request_user
from apps.core.people import person_name
from apps.drafts.selectors import campaign_batches, decision_counts
from apps.reviews.selectors import drafts_awaiting_sign_off, review_settings_for
from apps.reviews.services import product_reference_set, review_settings_update


def campaign_list(request: HttpRequest) -> HttpResponse:
    """My campaigns: the landing page, with what waits for me in each."""
    user = request_user(request)
    campaigns = list(campaigns_for_user(user))
    memberships = list(
        Membership.objects.filter(user=user, campaign__in=campaigns).select_related("campaign")
    )
    roles = {m.campaign_id: m for m in memberships}
    waiting = waiting_for(user, memberships)
    rows = [(c, roles.get(c.pk), waiting.get(c.pk, [])) for c in campaigns]
    return render(
        request,
        "campaigns/list.html",
        {
            "rows": rows,
            "can_create": can_create_campaigns(user),
            "archived": archived_campaigns_for_owner(user),
        },
    )


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk)
    campaign = membership.campaign
    writable = not campaign.is_archived
    can_sign_off = writable and role_can(membership.role, Can.SIGN_OFF)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "membership": membership,
            # An archived campaign is read-only: no buttons that would only be refused.
            "can_upload": writable and role_can(membership.role, Can.UPLOAD),
            "can_export": writable and role_can(membership.role, Can.EXPORT),
            "can_sign_off": can_sign_off,
            # The sign-off queue's link says how many decisions wait there: the queue's own
            # selector, so the link and the queue's heading never disagree.
            "awaiting_sign_off_count": drafts_awaiting_sign_off(campaign.pk).count()
            if can_sign_off
            else 0,
            "is_owner": is_owner(request.user, campaign),
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


# --- Owners: create, edit, archive -----------------------------------------------------------


def _save_review_settings(
    request: HttpRequest, form: CampaignForm, campaign: Campaign
) -> str | None:
    """The sign-off rule and product reference image belong to the reviews app; its services
    write them. Returns a refusal to show, or None."""
    user = request_user(request)
    review_settings_update(campaign=campaign, by=user, sign_off=form.cleaned_data["sign_off"])
    upload = form.cleaned_data.get("product_reference")
    if upload:
        try:
            product_reference_set(campaign=campaign, by=user, name=upload.name, upload=upload)
        except Refusal as refusal:
            return f"Product reference image not saved: {refusal.message}"
    return None


def campaign_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not can_create_campaigns(user):
        raise PermissionDenied("Ask a staff admin for the right to create campaigns.")
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(**form.campaign_fields(), created_by=user)
        except Refusal as refusal:
            form.add_error(None, refusal.message)
        else:
            problem = _save_review_settings(request, form, campaign)
            if problem:
                messages.error(request, problem)
            messages.success(request, f"Created {campaign.name}. Invite your team next.")
            return redirect("campaigns:people", pk=campaign.pk)
    return render(request, "campaigns/edit.html", {"form": form, "campaign": None})


def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_owner(request_user(request), pk)
    if campaign.is_archived:
        raise PermissionDenied("This campaign is archived: restore it before changing it.")
    review_settings = review_settings_for(campaign)
    initial = {
        "name": campaign.name,
        "brief": campaign.brief,
        "key_message": campaign.key_message,
        "product_requirements": campaign.product_requirements,
        "brand_rules": "\n".join(campaign.brand_rules),
        "target_channels": campaign.target_channels,
        "sign_off": review_settings.sign_off,
    }
    form = CampaignForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        current_channels=campaign.target_channels,
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign_update(campaign=campaign, by=request_user(request), **form.campaign_fields())
        except Refusal as refusal:
            form.add_error(None, refusal.message)
        else:
            problem = _save_review_settings(request, form, campaign)
            if problem:
                messages.error(request, problem)
            else:
                messages.success(request, "Saved.")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request,
        "campaigns/edit.html",
        {"form": form, "campaign": campaign, "review_settings": review_settings},
    )


@require_POST
def campaign_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_owner(request_user(request), pk)
    if campaign_archive(campaign=campaign, by=request_user(request)):
        messages.success(request, f"Archived {campaign.name}. Restore it from your home page.")
    return redirect("campaigns:list")


@require_POST
def campaign_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_owner(request_user(request), pk)
    if campaign_restore(campaign=campaign, by=request_user(request)):
        messages.success(request, f"Restored {campaign.name}.")
    return redirect("campaigns:detail", pk=campaign.pk)


# --- Owners: people ---------------------------------------------------------------------------


def campaign_people(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_campaign_for_owner(request_user(request), pk)
    return render(
        request,
        "campaigns/people.html",
        {
            "campaign": campaign,
            "members": campaign_members(campaign),
            "invitations": pending_invitations(campaign),
            "invite_form": InviteForm(),
            "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        },
    )


@require_POST
def campaign_invite(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for_owner(user, pk)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an e-mail address and a role.")
        return redirect("campaigns:people", pk=pk)
    try:
        new = invitation_create(
            campaign=campaign,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            by=user,
        )
    except Refusal as refusal:
        return refuse(request, refusal, back=reverse("campaigns:people", args=[pk]))
    messages.success(request, f"Invitation sent to {new.invitation.email}.")
    return redirect("campaigns:people", pk=pk)


def _member(campaign: Campaign, membership_pk: int) -> Membership:
    found = campaign.memberships.select_related("user").filter(pk=membership_pk).first()
    if found is None:
        raise Http404("No such member")
    return found


@require_POST
def member_role(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for_owner(user, pk)
    member = _member(campaign, membership_pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a role.")
        return redirect("campaigns:people", pk=pk)
    try:
        membership_set(campaign=campaign, user=member.user, role=form.cleaned_data["role"], by=user)
    except Refusal as refusal:
        return refuse(request, refusal, back=reverse("campaigns:people", args=[pk]))
    else:
        label = dict(RoleForm.base_fields["role"].choices)[form.cleaned_data["role"]]  # type: ignore[attr-defined]
        messages.success(request, f"{person_name(member.user)} is now {label}.")
    return redirect("campaigns:people", pk=pk)


@require_POST
def member_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for_owner(user, pk)
    member = _member(campaign, membership_pk)
    try:
        membership_remove(campaign=campaign, user=member.user, by=user)
    except Refusal as refusal:
        return refuse(request, refusal, back=reverse("campaigns:people", args=[pk]))
    else:
        messages.success(request, f"Removed {person_name(member.user)} from {campaign.name}.")
    return redirect("campaigns:people", pk=pk)


@require_POST
def invitation_withdraw(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for_owner(user, pk)
    invitation = Invitation.objects.filter(campaign=campaign, pk=invitation_pk).first()
    if invitation is None:
        raise Http404("No such invitation")
    if invitation_revoke(invitation=invitation, by=user):
        messages.success(request, f"Withdrew the invitation to {invitation.email}.")
    return redirect("campaigns:people", pk=pk)


# --- Whoever holds the link -------------------------------------------------------------------


@login_not_required
def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: join with the account you are logged in with, or create one."""
    try:
        invitation = invitation_for_link(token)
    except Refusal as refusal:
        return render(request, "campaigns/invitation.html", {"refusal": refusal}, status=410)
    user = request.user
    form = NewAccountForm(request.POST or None)
    if request.method == "POST":
        try:
            if isinstance(user, User):
                membership: Membership | None = invitation_accept(link_token=token, user=user)
            elif not settings.DRAFTROOM_PASSWORD_LOGIN:
                raise PermissionDenied("Accounts are made through single sign-on here.")
            elif form.is_valid():
                new_user, membership = invitation_accept_new_account(
                    link_token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(request, new_user, backend="apps.accounts.backends.PasswordBackend")
            else:
                membership = None
        except Refusal as refusal:
            form.add_error(None, refusal.message)
        else:
            if membership is not None:
                messages.success(
                    request,
                    f"Welcome to {membership.campaign.name}: you are "
                    f"{membership.get_role_display().lower()}.",
                )
                return redirect("campaigns:detail", pk=membership.campaign_id)
    already = membership_for(request.user, invitation.campaign_id)
    return render(
        request,
        "campaigns/invitation.html",
        {
            "invitation": invitation,
            "form": form,
            "already": already,
            "token": token,
        },
    )
