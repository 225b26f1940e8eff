from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import (
    campaign_members,
    campaigns_where_user_can,
    get_campaign_for_user,
    require_membership,
)
from apps.core.errors import Refusal
from apps.core.http import refuse, request_user, safe_next, serve_large, serve_private, wants_json
from apps.core.models import JobStatus
from apps.core.provenance import content_credentials_on
from apps.drafts.models import Decision
from apps.drafts.selectors import (
    draft_edits,
    get_batch_for_user,
    get_draft_for_user,
    original_file,
)
from apps.exports.links import pack_id_from_token, pack_link_token
from apps.exports.masters import master_for
from apps.exports.models import Pack, PackKind
from apps.exports.selectors import (
    asset_record,
    campaign_packs,
    channel_sheet,
    current_versions,
    focal_shown,
    get_pack_for_user,
    get_preset,
    get_version_for_user,
    kept_drafts,
    latest_export_job,
    pack_downloadable,
    planned_crops,
    presets_for_campaign,
    record_regions,
)
from apps.exports.services import (
    PackIncomplete,
    crop_override_clear,
    crop_override_set,
    export_queue,
    export_queue_kept,
    focal_set,
    pack_queue,
    record_next_batch,
)
from apps.reviews.selectors import draft_reviews
from workers.focal import box_from_fractions


def _fractions(request: HttpRequest) -> tuple[float, float, float, float]:
    try:
        return tuple(float(request.POST[k]) for k in ("x", "y", "w", "h"))  # type: ignore[return-value]
    except (KeyError, ValueError):
        raise Refusal("Send the box as x, y, w and h (fractions of the picture).") from None


# --- channel sheet, focal rectangle, crop editor --------------------------------------------


def sheet_page(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    presets = presets_for_campaign(draft.campaign)
    sheet = channel_sheet(draft, presets)
    return render(
        request,
        "exports/sheet.html",
        {
            "draft": draft,
            "campaign": draft.campaign,
            "sheet": sheet,
            "focal_area": focal_shown(draft),
            "job": latest_export_job(draft),
            "can_export": scoped.can(Can.EXPORT),
            "is_kept": draft.decision == Decision.KEEP,
        },
    )


@require_POST
def focal_save(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.EXPORT)
    draft = scoped.obj
    back = reverse("exports:sheet", args=[draft.pk])
    try:
        box = box_from_fractions(_fractions(request), (draft.width, draft.height))
        focal = focal_set(draft=draft, box=box, by=request_user(request))
    except ValueError as exc:
        return refuse(request, Refusal(str(exc)), back=back)
    except Refusal as exc:
        return refuse(request, exc, back=back)
    if wants_json(request):
        return JsonResponse({"box": focal.box.as_list(), "source": focal.source})
    # The message says what the cards will say: which crops still cut or crowd the subject.
    presets = presets_for_campaign(draft.campaign)
    _, planned, _ = planned_crops(draft, master_for(draft), presets)
    crowded = [p.name for p in presets if planned[p.slug][1]]
    if crowded:
        messages.warning(
            request,
            f"Subject saved. {len(crowded)} of {len(presets)} crops still cut it or reach "
            f"into a safe area ({', '.join(crowded)}): see the warnings on those cards.",
        )
    else:
        messages.success(request, "Subject saved: every crop keeps it in frame.")
    return redirect(back)


def crop_editor(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.EXPORT)
    draft = scoped.obj
    preset = get_preset(slug)
    master = master_for(draft)
    back = reverse("exports:sheet", args=[draft.pk])
    if request.method == "POST":
        try:
            box = box_from_fractions(_fractions(request), (master.width, master.height))
            crop_override_set(draft=draft, preset=preset, box=box, by=request_user(request))
        except ValueError as exc:
            return refuse(request, Refusal(str(exc)), back=request.path)
        except Refusal as exc:
            return refuse(request, exc, back=request.path)
        messages.success(request, f"{preset.name} crop saved.")
        return redirect(back)
    focal_box, planned, overridden = planned_crops(draft, master, [preset])
    crop, warnings = planned[preset.slug]
    return render(
        request,
        "exports/crop.html",
        {
            "draft": draft,
            "campaign": draft.campaign,
            "preset": preset,
            "master": master,
            "crop": crop,
            "focal": focal_box,
            "warnings": warnings,
            "overridden": preset.slug in overridden,
        },
    )


@require_POST
def crop_reset(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.EXPORT)
    preset = get_preset(slug)
    if crop_override_clear(draft=scoped.obj, preset=preset, by=request_user(request)):
        messages.success(request, f"{preset.name} crop is automatic again.")
    return redirect("exports:sheet", pk=scoped.obj.pk)


# --- export jobs -----------------------------------------------------------------------------


@require_POST
def export_draft(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.EXPORT)
    draft = scoped.obj
    back = safe_next(request, reverse("exports:sheet", args=[draft.pk]))
    try:
        job = export_queue(draft=draft, by=request_user(request))
    except Refusal as exc:
        return refuse(request, exc, back=back)
    if wants_json(request):
        return JsonResponse({"job_id": job.pk, "status": job.status})
    messages.success(request, "Export queued: the channel versions appear here when ready.")
    return redirect(back)


def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled fragment: the draft's latest export job."""
    scoped = get_draft_for_user(request_user(request), pk)
    return render(
        request,
        "exports/partials/export_status.html",
        {"draft": scoped.obj, "job": latest_export_job(scoped.obj)},
    )


def _queue_kept(request: HttpRequest, drafts: list, back: str) -> HttpResponse:
    jobs = export_queue_kept(drafts=drafts, by=request_user(request))
    if wants_json(request):
        return JsonResponse({"queued": len(jobs)})
    if jobs:
        messages.success(request, f"Export queued for {len(jobs)} kept drafts.")
    else:
        messages.warning(request, "No kept drafts to export yet.")
    return redirect(back)


@require_POST
def export_batch(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_batch_for_user(request_user(request), pk, need=Can.EXPORT)
    drafts = list(kept_drafts(batch=scoped.obj))
    return _queue_kept(request, drafts, reverse("drafts:batch", args=[scoped.obj.pk]))


@require_POST
def export_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk, Can.EXPORT)
    drafts = list(kept_drafts(campaign=membership.campaign))
    return _queue_kept(request, drafts, reverse("exports:packs", args=[pk]))


@require_GET
def version_file(request: HttpRequest, pk: int) -> FileResponse:
    scoped = get_version_for_user(request_user(request), pk)
    version = scoped.obj
    filename = None
    if request.GET.get("download"):
        ext = version.file_key.rsplit(".", 1)[-1]
        name = f"draft-{version.draft_id}-{version.preset.slug}-{version.width}x{version.height}"
        filename = f"{name}.{ext}"
    return serve_private(
        version.file_key, version.content_type, etag=version.sha256, filename=filename
    )


# --- packs -----------------------------------------------------------------------------------


def packs_page(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk, Can.EXPORT)
    campaign = membership.campaign
    packs = list(campaign_packs(campaign))
    for pack in packs:
        if pack.status == JobStatus.DONE and pack.output_key:
            pack.link = reverse("exports:pack-link", args=[pack_link_token(pack, membership)])  # type: ignore[attr-defined]
    context = {
        "campaign": campaign,
        "packs": packs,
        "kept_count": kept_drafts(campaign=campaign).count(),
        "any_active": any(p.is_active for p in packs),
        "now": timezone.now(),
    }
    if request.GET.get("fragment") == "list":
        return render(request, "exports/partials/pack_list.html", context)
    return render(request, "exports/packs.html", context)


def _checklist_page(
    request: HttpRequest, refusal: PackIncomplete, *, action: str, back: str, kind: str
) -> HttpResponse:
    """The producer's choice when channels cannot be made: build with what can be made (the
    manifest lists what was left out and why) or cancel."""
    if wants_json(request):
        return JsonResponse(
            {
                "ok": False,
                "error": refusal.message,
                "checklist": [
                    {
                        "draft_id": c.draft.pk,
                        "missing": [
                            {"preset": i.preset.slug, "can_make": i.can_make, "reason": i.reason}
                            for i in c.items
                        ],
                    }
                    for c in refusal.checklist
                ],
            },
            status=409,
        )
    context = {"checklist": refusal.checklist, "action": action, "back": back, "kind": kind}
    return render(request, "exports/pack_checklist.html", context, status=409)


def _without_missing(request: HttpRequest) -> bool:
    return request.POST.get("without_missing") == "1"


@require_POST
def pack_create(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request_user(request), pk, Can.EXPORT)
    back = reverse("exports:packs", args=[pk])
    kind = request.POST.get("kind", PackKind.ZIP)
    try:
        pack = pack_queue(
            campaign=membership.campaign,
            by=request_user(request),
            kind=kind,
            without_missing=_without_missing(request),
        )
    except PackIncomplete as exc:
        action = reverse("exports:pack-create", args=[pk])
        return _checklist_page(request, exc, action=action, back=back, kind=kind)
    except Refusal as exc:
        return refuse(request, exc, back=back)
    if wants_json(request):
        return JsonResponse({"pack_id": pack.pk})
    messages.success(request, f"{pack.get_kind_display()} queued.")
    return redirect(back)


@require_POST
def pack_create_draft(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.EXPORT)
    draft = scoped.obj
    back = reverse("exports:packs", args=[draft.campaign_id])
    try:
        pack = pack_queue(
            campaign=draft.campaign,
            draft=draft,
            by=request_user(request),
            without_missing=_without_missing(request),
        )
    except PackIncomplete as exc:
        action = reverse("exports:pack-create-draft", args=[pk])
        back = reverse("exports:sheet", args=[draft.pk])
        return _checklist_page(request, exc, action=action, back=back, kind=PackKind.ZIP)
    except Refusal as exc:
        return refuse(request, exc, back=reverse("exports:sheet", args=[draft.pk]))
    if wants_json(request):
        return JsonResponse({"pack_id": pack.pk})
    messages.success(request, "Channel pack queued.")
    return redirect(back)


def _pack_response(pack_id: int, request: HttpRequest, fingerprint: str | None) -> HttpResponseBase:
    scoped = get_pack_for_user(request_user(request), pack_id, need=Can.EXPORT)
    pack = scoped.obj
    if fingerprint is not None and fingerprint != pack.sha256[:16]:
        raise Http404("This link is for an older build of the pack")
    return pack_file_response(pack)


def pack_file_response(pack: Pack) -> HttpResponseBase:
    """The pack's file, after the caller's permission check (a member's export right, or a
    share link's download right); 404 while it is not built or once it has expired."""
    if not pack_downloadable(pack):
        raise Http404("This pack is not ready, or has expired")
    content_type = "application/pdf" if pack.kind == PackKind.DECK else "application/zip"
    # no-store: a pack is rebuilt under the same key, and a signed link must not outlive it.
    return serve_large(
        pack.output_key, content_type, filename=pack.filename, cache_control="private, no-store"
    )


@require_GET
def pack_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _pack_response(pk, request, None)


@require_GET
def pack_link_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """A signed, expiring link; the person opening it must still be allowed to export."""
    found = pack_id_from_token(token)
    if found is None:
        raise Http404("This link is invalid or has expired")
    pack_id, fingerprint = found
    try:
        return _pack_response(pack_id, request, fingerprint)
    except PermissionDenied:
        # A member without the export right: say who can help instead of a bare 403
        # (a non-member got a 404 above and learns nothing).
        pack = Pack.objects.select_related("campaign").get(pk=pack_id)
        helpers = [m.user for m in campaign_members(pack.campaign) if role_can(m.role, Can.EXPORT)]
        return render(
            request,
            "exports/pack_link_refused.html",
            {"campaign": pack.campaign, "pack": pack, "helpers": helpers},
            status=403,
        )


# --- the record ------------------------------------------------------------------------------


def record_page(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk)
    draft = scoped.obj
    master = master_for(draft)
    versions = current_versions(draft, master)
    return render(
        request,
        "exports/record.html",
        {
            "draft": draft,
            "campaign": draft.campaign,
            "record": asset_record(draft, versions=versions),
            "versions": versions,
            "master": master,
            "can_upload": scoped.can(Can.UPLOAD),
            "content_credentials": content_credentials_on(),
            "upload_campaigns": campaigns_where_user_can(request_user(request), Can.UPLOAD),
            "reviews": draft_reviews(draft),
            "regions": record_regions(draft),
            "original": original_file(draft),
            "edits": draft_edits(draft),
        },
    )


@require_GET
def record_json(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk)
    body = json.dumps(
        {"schema_version": 1, **asset_record(scoped.obj)},
        indent=2,
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="draft-{scoped.obj.pk}-record.json"'
    return response


@require_POST
def record_next_batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The next batch, in the campaign chosen on the record page (any the person may upload
    to; reading the record is enough on this side)."""
    user = request_user(request)
    draft = get_draft_for_user(user, pk).obj
    target = draft.campaign
    chosen = request.POST.get("campaign", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404("No such campaign")
        target = get_campaign_for_user(user, int(chosen), need=Can.UPLOAD)
    batch = record_next_batch(draft=draft, by=user, campaign=target)
    if wants_json(request):
        return JsonResponse({"batch_id": batch.pk, "campaign_id": target.pk})
    messages.success(
        request, f"Batch “{batch.name}” started in {target.name}: it carries the prompt."
    )
    return redirect(f"{reverse('drafts:upload', args=[target.pk])}?batch={batch.pk}")
