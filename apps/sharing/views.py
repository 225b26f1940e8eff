"""Share links: the members' page that makes and revokes them, and the guest pages under
/share/<token>/ — the only URLs LoginRequiredMiddleware lets through without an account
(``login_not_required``). Every guest view goes through ``_guest``: rate limit, link lookup,
state (410 when revoked or expired), password, then the guest's name and e-mail."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.campaigns.permissions import Can
from apps.campaigns.selectors import get_campaign_for_user
from apps.core.compare import compare_component
from apps.core.errors import Refusal
from apps.core.http import request_user, serve_private
from apps.drafts.models import Draft
from apps.drafts.selectors import draft_rendition
from apps.drafts.views import CONTENT_TYPES  # the drafts app's one map of its formats
from apps.exports.models import PackKind
from apps.exports.selectors import campaign_packs, pack_downloadable
from apps.exports.views import pack_file_response
from apps.sharing import services
from apps.sharing.models import LinkState, ShareLink, Verdict
from apps.sharing.selectors import (
    campaign_share_links,
    client_approvals,
    get_draft_for_guest,
    get_share_link_for_user,
    link_drafts,
    share_link_for_token,
    token_hash,
)
from apps.sharing.throttle import (
    client_address,
    share_password_blocked,
    share_password_failed,
    share_request_allowed,
)

# --- members: make, list and revoke links ----------------------------------------------------


@require_GET
def links_page(request: HttpRequest, pk: int) -> HttpResponse:
    # Handing work to a client is the hand-over roles' job: those who may export.
    campaign = get_campaign_for_user(request_user(request), pk, need=Can.EXPORT)
    now = timezone.now()
    links = [(link, link.state(now)) for link in campaign_share_links(campaign)]
    preselected = request.GET.get("draft", "")
    return render(
        request,
        "sharing/links.html",
        {
            "campaign": campaign,
            "links": links,
            "drafts": Draft.objects.filter(campaign=campaign).order_by("id"),
            "packs": campaign_packs(campaign).filter(kind=PackKind.ZIP)[:20],
            "preselected": {int(preselected)} if preselected.isdigit() else set(),
            "new_url": request.session.pop("share:new-url", None),
        },
    )


@require_POST
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    campaign = get_campaign_for_user(user, pk, need=Can.EXPORT)
    back = reverse("sharing:links", args=[campaign.pk])
    ids = [int(i) for i in request.POST.getlist("drafts") if i.isdigit()]
    pack_id = request.POST.get("pack", "")
    pack = campaign_packs(campaign).filter(pk=int(pack_id)).first() if pack_id.isdigit() else None
    days = request.POST.get("days", "14")
    try:
        _, token = services.share_link_create(
            campaign=campaign,
            by=user,
            title=request.POST.get("title", ""),
            drafts=Draft.objects.filter(pk__in=ids, campaign=campaign),
            pack=pack,
            days=int(days) if days.isdigit() else 0,
            password=request.POST.get("password", ""),
            can_comment=bool(request.POST.get("can_comment")),
            can_approve=bool(request.POST.get("can_approve")),
            can_download=bool(request.POST.get("can_download")),
        )
    except Refusal as refusal:
        messages.error(request, f"No link made: {refusal.message}")
        return redirect(back)
    # The token exists only now: show the address once, on the next page, from the session.
    request.session["share:new-url"] = request.build_absolute_uri(
        reverse("sharing:guest", args=[token])
    )
    messages.success(request, "Link made. Copy it now: it is shown only once.")
    return redirect(back)


@require_POST
def link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    link = get_share_link_for_user(user, pk).obj
    services.share_link_revoke(link=link, by=user)
    messages.success(request, f"“{link.title}” is revoked; its address no longer opens.")
    return redirect("sharing:links", link.campaign_id)


# --- guests ----------------------------------------------------------------------------------


def _session_key(link: ShareLink) -> str:
    return f"share:{link.pk}"


def _refused(request: HttpRequest, state: str, status: int, link: ShareLink | None = None):
    return render(request, "sharing/refused.html", {"state": state, "link": link}, status=status)


GuestView = Callable[..., HttpResponseBase]


def _guest(*, identified: bool = True) -> Callable[[GuestView], GuestView]:
    def decorate(view: GuestView) -> GuestView:
        @login_not_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, token: str, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            hashed = token_hash(token)
            if not share_request_allowed(request, hashed):
                response = _refused(request, "throttled", 429)
                response["Retry-After"] = "60"
                return response
            link = share_link_for_token(token)
            if link is None:
                return _refused(request, "unknown", 404)
            state = link.state(timezone.now())
            if state != LinkState.ACTIVE:
                return _refused(request, state, 410, link)
            guest = request.session.get(_session_key(link)) or {}
            if identified and not guest.get("email"):
                return redirect("sharing:guest", token)
            request.guest = guest  # type: ignore[attr-defined]
            return view(request, token, link, *args, **kwargs)

        return wrapper

    return decorate


@require_http_methods(["GET", "POST"])
@_guest(identified=False)
def guest_home(request: HttpRequest, token: str, link: ShareLink) -> HttpResponse:
    """The gate (password, name and e-mail) and, once through, the link's drafts."""
    key = _session_key(link)
    guest: dict[str, Any] = dict(request.session.get(key) or {})
    error = ""
    if request.method == "POST":
        hashed = token_hash(token)
        if link.password_hash and not guest.get("unlocked"):
            if share_password_blocked(request, hashed):
                return _refused(request, "throttled", 429, link)
            if not services.share_link_password_ok(link, request.POST.get("password", "")):
                share_password_failed(request, hashed)
                error = "That password is not right."
            else:
                guest["unlocked"] = True
        if not error:
            try:
                name, email = services.guest_identity_clean(
                    name=request.POST.get("name", ""), email=request.POST.get("email", "")
                )
            except Refusal as refusal:
                error = refusal.message
            else:
                # Kept for this link only: another link asks again.
                request.session[key] = {**guest, "name": name, "email": email}
                services.share_link_opened(
                    link=link, name=name, email=email, address=client_address(request)
                )
                return redirect("sharing:guest", token)
        request.session[key] = guest
    if not guest.get("email"):
        return render(
            request,
            "sharing/gate.html",
            {
                "link": link,
                "needs_password": bool(link.password_hash and not guest.get("unlocked")),
                "error": error,
                "form": request.POST,
            },
            status=400 if error else 200,
        )
    drafts = list(link_drafts(link))
    answers: dict[int, str] = {}
    for draft in drafts:
        latest = [a for a in client_approvals(draft) if a.verdict != Verdict.COMMENT]
        if latest:
            answers[draft.pk] = latest[-1].get_verdict_display()
    pack = link.pack if link.can_download and link.pack is not None else None
    return render(
        request,
        "sharing/home.html",
        {
            "link": link,
            "token": token,
            "guest": guest,
            "items": [(d, answers.get(d.pk)) for d in drafts],
            "pack": pack if pack is not None and pack_downloadable(pack) else None,
        },
    )


@require_GET
@_guest()
def guest_draft(request: HttpRequest, token: str, link: ShareLink, pk: int) -> HttpResponse:
    draft = get_draft_for_guest(link, pk)
    drafts = list(link_drafts(link))
    # Compare with another version of the same image, when the link holds one.
    family = [
        d
        for d in drafts
        if d.pk != draft.pk
        and (
            d.parent_id == draft.pk
            or d.pk == draft.parent_id
            or (d.parent_id and d.parent_id == draft.parent_id)
        )
    ]
    other = next((d for d in family if str(d.pk) == request.GET.get("compare")), None)
    compare = None
    if other is not None:
        compare = compare_component(
            a=_image_info(token, other), b=_image_info(token, draft), request=request
        )
    index = [d.pk for d in drafts].index(draft.pk)
    return render(
        request,
        "sharing/draft.html",
        {
            "link": link,
            "token": token,
            "guest": request.guest,  # type: ignore[attr-defined]
            "draft": draft,
            "zoom": "100" if request.GET.get("zoom") == "100" else "fit",
            "family": family,
            "compare": compare,
            "answers": client_approvals(draft),
            "previous": drafts[index - 1] if index > 0 else None,
            "next": drafts[index + 1] if index + 1 < len(drafts) else None,
            "position": index + 1,
            "count": len(drafts),
        },
    )


def _image_info(token: str, draft: Draft) -> dict[str, Any]:
    return {
        "label": draft.original_name,
        "src": reverse("sharing:guest-image", args=[token, draft.pk, "preview"]),
        "fullSrc": reverse("sharing:guest-image", args=[token, draft.pk, "original"]),
        "width": draft.width,
        "height": draft.height,
    }


@require_POST
@_guest()
def guest_answer(request: HttpRequest, token: str, link: ShareLink, pk: int) -> HttpResponse:
    draft = get_draft_for_guest(link, pk)
    guest = request.guest  # type: ignore[attr-defined]
    try:
        answer = services.client_answer(
            link=link,
            draft=draft,
            name=guest["name"],
            email=guest["email"],
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
        )
    except Refusal as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, f"Thank you: “{answer.get_verdict_display()}” is sent to the team."
        )
    return redirect("sharing:guest-draft", token, draft.pk)


@require_GET
@_guest()
def guest_image(
    request: HttpRequest, token: str, link: ShareLink, pk: int, name: str
) -> FileResponse:
    draft = get_draft_for_guest(link, pk)
    if name not in ("thumb", "preview", "original"):
        raise Http404("No such image")
    rendition = draft_rendition(draft, name) if name != "original" else None
    if rendition is not None:
        key, content_type = rendition.file_key, rendition.content_type
    else:
        key = draft.file_key
        content_type = CONTENT_TYPES.get(draft.format, "application/octet-stream")
    # no-store: a revoked link must stop showing the image at once, not after an hour.
    return serve_private(key, content_type, cache_control="private, no-store")


@require_GET
@_guest()
def guest_pack(request: HttpRequest, token: str, link: ShareLink) -> HttpResponseBase:
    """The channel pack the link was made from, for a link that allows downloads."""
    if not link.can_download or link.pack is None:
        raise Http404("This link has no pack to download")
    return pack_file_response(link.pack)


@require_GET
@_guest()
def guest_download(request: HttpRequest, token: str, link: ShareLink, pk: int) -> FileResponse:
    if not link.can_download:
        raise Http404("This link does not allow downloads")
    draft = get_draft_for_guest(link, pk)
    content_type = CONTENT_TYPES.get(draft.format, "application/octet-stream")
    return serve_private(
        draft.file_key,
        content_type,
        filename=f"draft-{draft.pk}.{(draft.format or 'bin').lower()}",
        cache_control="private, no-store",
    )
