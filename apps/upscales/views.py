from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns.permissions import Can
from apps.core.compare import compare_component
from apps.core.errors import Refusal
from apps.core.http import refuse, request_user, serve_large, serve_private, wants_json
from apps.core.models import JobStatus
from apps.drafts.selectors import get_batch_for_user, get_draft_for_user
from apps.upscales.forms import UpscaleForm
from apps.upscales.models import UpscaleJob
from apps.upscales.selectors import get_upscale_for_user
from apps.upscales.services import (
    upscale_cancel,
    upscale_request,
    upscale_request_batch,
    upscale_retry,
)


def _form_errors(form: UpscaleForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _answer(
    request: HttpRequest, ok: bool, message: str, fallback: str, *, status: int = 400
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": ok, "message": message}, status=200 if ok else status)
    (messages.success if ok else messages.error)(request, message)
    return redirect(fallback)


@require_POST
def upscale_create(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_draft_for_user(request_user(request), pk, need=Can.UPSCALE)
    back = reverse("drafts:detail", args=[pk]) + "#upscales"
    form = UpscaleForm(request.POST)
    if not form.is_valid():
        return _answer(request, False, "Not queued: " + _form_errors(form), back)
    try:
        _job, created = upscale_request(
            draft=scoped.obj,
            by=request_user(request),
            model=form.cleaned_data["model"],
            scale=form.cleaned_data["scale"],
            fit_largest_channel=form.cleaned_data["fit"],
            then_export=form.cleaned_data["then_export"],
        )
    except Refusal as exc:
        return refuse(
            request, exc, back=back, prefix="Not queued: ", status=422, json_key="message"
        )
    text = "Upscale queued." if created else "The same upscale already exists; showing it."
    return _answer(request, True, text, back)


@require_POST
def batch_upscale(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_batch_for_user(request_user(request), pk, need=Can.UPSCALE)
    back = reverse("drafts:batch", args=[pk])
    form = UpscaleForm(request.POST)
    if not form.is_valid():
        return _answer(request, False, "Not queued: " + _form_errors(form), back)
    result = upscale_request_batch(
        batch=scoped.obj,
        by=request_user(request),
        model=form.cleaned_data["model"],
        scale=form.cleaned_data["scale"],
        fit_largest_channel=form.cleaned_data["fit"],
    )
    parts = [f"{result.queued} upscale(s) queued"]
    if result.existing:
        parts.append(f"{result.existing} already queued or done")
    if result.refused:
        parts.append("not queued: " + "; ".join(result.refused[:5]))
    if not (result.queued or result.existing or result.refused):
        return _answer(request, False, "No kept drafts in this batch to upscale.", back)
    return _answer(request, True, ". ".join(parts) + ".", back)


def upscale_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The result beside its source in the compare component: at fit with the divider centred,
    or at 100 % of the upscaled pixels with ``?zoom=100`` (the panel's "Compare at 100 %")."""
    scoped = get_upscale_for_user(request_user(request), pk)
    job = scoped.obj
    draft = job.draft
    compare = None
    if job.status == JobStatus.DONE:
        original = reverse("drafts:image", args=[draft.pk, "original"])
        result = reverse("upscales:image", args=[job.pk])
        compare = compare_component(
            a={
                "label": "Source",
                "src": original,
                "fullSrc": original,
                "width": draft.width,
                "height": draft.height,
            },
            b={
                "label": f"Upscaled {job.scale_label}",
                "src": result,
                "fullSrc": result,
                "width": job.output_width,
                "height": job.output_height,
            },
            request=request,
        )
    return render(
        request,
        "upscales/detail.html",
        {
            "job": job,
            "draft": draft,
            "campaign": draft.campaign,
            "can_upscale": scoped.can(Can.UPSCALE),
            "compare": compare,
            "on_result_page": True,
        },
    )


def upscale_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled fragment: one upscale job's progress, timings and links."""
    scoped = get_upscale_for_user(request_user(request), pk)
    return render(
        request,
        "upscales/partials/job.html",
        {"job": scoped.obj, "can_upscale": scoped.can(Can.UPSCALE)},
    )


@require_POST
def upscale_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_upscale_for_user(request_user(request), pk, need=Can.UPSCALE)
    back = reverse("drafts:detail", args=[scoped.obj.draft_id]) + "#upscales"
    if upscale_cancel(job=scoped.obj, by=request_user(request)):
        return _answer(request, True, "Upscale cancelled.", back)
    return _answer(request, False, "Only a queued or running upscale can be cancelled.", back)


@require_POST
def upscale_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    scoped = get_upscale_for_user(request_user(request), pk, need=Can.UPSCALE)
    back = reverse("drafts:detail", args=[scoped.obj.draft_id]) + "#upscales"
    try:
        if upscale_retry(job=scoped.obj, by=request_user(request)):
            return _answer(request, True, "Upscale queued again.", back)
    except Refusal as exc:
        return refuse(request, exc, back=back, status=422, json_key="message")
    return _answer(request, False, "Only a failed or cancelled upscale can be retried.", back)


def _output(request: HttpRequest, pk: int, need: Can) -> UpscaleJob:
    scoped = get_upscale_for_user(request_user(request), pk, need=need)
    job = scoped.obj
    if job.status != JobStatus.DONE or not job.output_key:
        raise Http404("This upscale has no file yet")
    return job


@require_GET
def upscale_image(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _output(request, pk, Can.VIEW)
    return serve_private(job.output_key, "image/png", etag=job.output_key.rsplit("/", 1)[-1])


@require_GET
def upscale_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The master: from S3 a presigned URL, never proxied through the web process."""
    job = _output(request, pk, Can.DOWNLOAD_ORIGINAL)
    name = f"draft-{job.draft_id}-{job.used_model or job.model_name}-x{job.scale:g}.png"
    return serve_large(
        job.output_key, "image/png", etag=job.output_key.rsplit("/", 1)[-1], filename=name
    )
