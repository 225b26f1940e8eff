"""REST API v1. Thin views over the pages' own services and scoped getters: a token acts as
its owner with the owner's roles, narrowed by the token (``apps.api.auth``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api import serializers as s
from apps.api.auth import require_token_reach, token_campaign_ids
from apps.api.idempotency import idempotent
from apps.api.pagination import IdCursorPagination, OldestFirstCursorPagination
from apps.api.problems import problem
from apps.campaigns.models import Membership
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import campaigns_for_user, get_campaign_for_user
from apps.checks.models import CheckResult
from apps.core.http import request_user
from apps.drafts.selectors import (
    GridFilters,
    Scoped,
    campaign_batches,
    drafts_search,
    get_batch_for_user,
    get_draft_for_user,
)
from apps.drafts.services import batch_create, draft_intake
from apps.exports import views as export_pages
from apps.exports.selectors import (
    asset_record,
    current_versions,
    get_pack_for_user,
    get_version_for_user,
    latest_export_job,
)
from apps.exports.services import export_queue, pack_queue
from apps.reviews.selectors import draft_regions, draft_reviews, region_as_json
from apps.reviews.services import review_sign_off, review_submit
from apps.rework.selectors import get_assignment_for_user, user_assignments
from apps.rework.services import assignment_can_submit, assignment_submit
from apps.upscales import views as upscale_pages
from apps.upscales.selectors import get_upscale_for_user
from apps.upscales.services import upscale_request
from workers.genmeta.info import with_source
from workers.genmeta.sidecar import info_from_mapping

BINARY = {(200, "application/octet-stream"): OpenApiTypes.BINARY}


class ApiView(APIView):
    """Answers anonymous callers itself (401 problem+json) instead of the site's redirect to
    the login page."""

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
        return login_not_required(super().as_view(**initkwargs))

    def paginate(self, request: Request, queryset: Any, serializer: Any, *, oldest_first=False):
        paginator = OldestFirstCursorPagination() if oldest_first else IdCursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = serializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


def reach(request: Request, scoped: Scoped[Any]) -> Scoped[Any]:
    require_token_reach(request, scoped.membership.campaign_id)
    return scoped


# --- campaigns and batches ----------------------------------------------------------------


class CampaignList(ApiView):
    @extend_schema(responses=s.CampaignSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = request_user(request)
        qs = campaigns_for_user(user)
        allowed = token_campaign_ids(request)
        if allowed is not None:
            qs = qs.filter(pk__in=allowed)
        roles = dict(Membership.objects.filter(user=user).values_list("campaign_id", "role"))
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = s.CampaignSerializer(page, many=True, context={"roles": roles}).data
        return paginator.get_paginated_response(data)


class CampaignDetail(ApiView):
    @extend_schema(responses=s.CampaignSerializer)
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        campaign = get_campaign_for_user(user, pk)
        require_token_reach(request, campaign.pk)
        roles = dict(Membership.objects.filter(user=user).values_list("campaign_id", "role"))
        return Response(s.CampaignSerializer(campaign, context={"roles": roles}).data)


class BatchList(ApiView):
    @extend_schema(responses=s.BatchSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        campaign = get_campaign_for_user(request_user(request), pk)
        require_token_reach(request, campaign.pk)
        return self.paginate(request, campaign_batches(campaign.pk), s.BatchSerializer)

    @extend_schema(request=s.BatchSerializer, responses={201: s.BatchSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        campaign = get_campaign_for_user(user, pk, need=Can.UPLOAD)
        require_token_reach(request, campaign.pk)
        form = s.BatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)

        def act() -> Response:
            batch = batch_create(
                campaign=campaign,
                name=form.validated_data["name"],
                note=form.validated_data.get("note", ""),
                created_by=user,
                source="api",
            )
            return Response(s.BatchSerializer(batch).data, status=201)

        return idempotent(request, act)


# --- drafts -------------------------------------------------------------------------------


class DraftList(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("decision", str, description="all, undecided, keep, regenerate…"),
            OpenApiParameter("check", str, description="the grid's check filter"),
            OpenApiParameter("q", str, description="the grid's search, e.g. 'fjord seed:42'"),
        ],
        responses=s.DraftSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        scoped = reach(request, get_batch_for_user(user, pk))
        # The grid's one search: its query language and tabs, within this batch.
        filters = GridFilters(
            batch_id=scoped.obj.pk,
            decision=request.query_params.get("decision", "all"),
            check=request.query_params.get("check", ""),
        )
        qs = drafts_search(user, scoped.obj.campaign, request.query_params.get("q", ""), filters)
        return self.paginate(request, qs, s.DraftSerializer, oldest_first=True)

    @extend_schema(
        request={"multipart/form-data": s.DraftUploadSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: s.IntakeResultSerializer, 200: s.IntakeResultSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Upload one draft with its generation metadata (the folder import's sidecar fields).
        Added: 201; already in the campaign: 200 with the existing draft; refused: 422."""
        user = request_user(request)
        scoped = reach(request, get_batch_for_user(user, pk, need=Can.UPLOAD))
        form = s.DraftUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        metadata = form.validated_data.get("metadata") or {}

        def act() -> Response:
            sidecar = with_source(info_from_mapping(metadata), "api metadata") if metadata else None
            result = draft_intake(
                batch=scoped.obj,
                uploaded_by=user,
                name=form.validated_data.get("name") or upload.name or "upload",
                upload=upload,
                size=upload.size,
                sidecar=sidecar,
            )
            body = result.as_json()
            if result.status == "added":
                return Response(body, status=201)
            if result.status == "duplicate":
                return Response(body, status=200)
            status = 503 if result.status == "error" else 422
            return problem(status, result.message, code=result.code, name=result.name)

        return idempotent(request, act)


class DraftDetail(ApiView):
    @extend_schema(responses=s.DraftDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        scoped = reach(request, get_draft_for_user(request_user(request), pk))
        draft = scoped.obj
        context = {
            "checks": CheckResult.objects.filter(draft=draft).order_by("position"),
            "reviews": draft_reviews(draft),
            "regions": [region_as_json(r) for r in draft_regions(draft)],
        }
        return Response(s.DraftDetailSerializer(draft, context=context).data)


class DraftRecord(ApiView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        """The asset record: the same document as the record page's JSON download."""
        scoped = reach(request, get_draft_for_user(request_user(request), pk))
        record = {"schema_version": 1, **asset_record(scoped.obj)}
        # Through Django's encoder first: the record holds datetimes and decimals.
        return Response(json.loads(json.dumps(record, cls=DjangoJSONEncoder)))


# --- reviews ------------------------------------------------------------------------------


class DraftDecide(ApiView):
    @extend_schema(request=s.DecideSerializer, responses={201: s.ReviewSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Decide keep, regenerate or reject (a note is needed for the last two); whether it
        counts at once or waits for sign-off follows the campaign's rule, as on the page. With
        ``expected_version`` (the draft's ``decision_version``) a decision that changed
        meanwhile answers 409 and nothing is saved."""
        user = request_user(request)
        scoped = reach(request, get_draft_for_user(user, pk, need=Can.REVIEW))
        form = s.DecideSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        review = review_submit(
            draft=scoped.obj,
            reviewer=user,
            decision=form.validated_data["decision"],
            checklist=form.validated_data["checklist"],
            note=form.validated_data["note"],
            regions=form.validated_data["regions"],
            expected_version=form.validated_data["expected_version"],
        )
        return Response(s.ReviewSerializer(review).data, status=201)


class DraftSignOff(ApiView):
    @extend_schema(request=s.SignOffSerializer, responses=s.DraftSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        scoped = reach(request, get_draft_for_user(user, pk, need=Can.SIGN_OFF))
        form = s.SignOffSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        review_sign_off(
            draft=scoped.obj, by=user, expected_version=form.validated_data["expected_version"]
        )
        scoped.obj.refresh_from_db()
        return Response(s.DraftSerializer(scoped.obj).data)


# --- assignments --------------------------------------------------------------------------


class AssignmentList(ApiView):
    @extend_schema(responses=s.AssignmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = user_assignments(request_user(request), campaign_ids=token_campaign_ids(request))
        return self.paginate(request, qs, s.AssignmentSerializer)


class AssignmentSubmit(ApiView):
    @extend_schema(
        request={"multipart/form-data": s.SubmitRevisionSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: s.DraftSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        scoped = reach(request, get_assignment_for_user(user, pk, need=Can.UPLOAD))
        if not assignment_can_submit(scoped.obj, user):
            return problem(403, "This assignment is someone else's.")
        form = s.SubmitRevisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]

        def act() -> Response:
            draft = assignment_submit(
                assignment=scoped.obj,
                by=user,
                name=upload.name or "",
                upload=upload,
                size=upload.size,
                note=form.validated_data["note"],
            )
            return Response(s.DraftSerializer(draft).data, status=201)

        return idempotent(request, act)


# --- upscales, exports, packs -------------------------------------------------------------


class UpscaleCreate(ApiView):
    @extend_schema(request=s.UpscaleRequestSerializer, responses={201: s.UpscaleSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Queue an upscale of a kept draft; the same request again returns the same job (200)."""
        user = request_user(request)
        scoped = reach(request, get_draft_for_user(user, pk, need=Can.UPSCALE))
        form = s.UpscaleRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        job, created = upscale_request(
            draft=scoped.obj,
            by=user,
            model=data["model"],
            scale=data["scale"],
            fit_largest_channel=data["fit_largest_channel"],
            then_export=data["then_export"],
        )
        return Response(s.UpscaleSerializer(job).data, status=201 if created else 200)


class UpscaleDetail(ApiView):
    @extend_schema(responses=s.UpscaleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        scoped = reach(request, get_upscale_for_user(request_user(request), pk))
        return Response(s.UpscaleSerializer(scoped.obj).data)


class UpscaleDownload(ApiView):
    @extend_schema(responses=BINARY)
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        reach(request, get_upscale_for_user(request_user(request), pk, need=Can.DOWNLOAD_ORIGINAL))
        # The page's view owns the file response (DRF gave the Django request its user).
        return upscale_pages.upscale_download(request._request, pk)


class DraftExports(ApiView):
    @extend_schema(responses=s.ExportsSerializer)
    def get(self, request: Request, pk: int) -> Response:
        scoped = reach(request, get_draft_for_user(request_user(request), pk))
        body = {"job": latest_export_job(scoped.obj), "versions": current_versions(scoped.obj)}
        return Response(s.ExportsSerializer(body).data)

    @extend_schema(request=None, responses={202: s.ExportJobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        scoped = reach(request, get_draft_for_user(user, pk, need=Can.EXPORT))
        job = export_queue(draft=scoped.obj, by=user)
        return Response(s.ExportJobSerializer(job).data, status=202)


class VersionDownload(ApiView):
    @extend_schema(responses=BINARY)
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        reach(request, get_version_for_user(request_user(request), pk))
        return export_pages.version_file(request._request, pk)


class PackCreate(ApiView):
    @extend_schema(request=s.PackRequestSerializer, responses={202: s.PackSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        campaign = get_campaign_for_user(user, pk, need=Can.EXPORT)
        require_token_reach(request, campaign.pk)
        form = s.PackRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        draft = None
        if form.validated_data["draft"] is not None:
            draft = get_draft_for_user(user, form.validated_data["draft"], need=Can.EXPORT).obj
        pack = pack_queue(
            campaign=campaign,
            by=user,
            draft=draft,
            kind=form.validated_data["kind"],
            without_missing=form.validated_data["without_missing"],
        )
        return Response(s.PackSerializer(pack).data, status=202)


class PackDetail(ApiView):
    @extend_schema(responses=s.PackSerializer)
    def get(self, request: Request, pk: int) -> Response:
        scoped = reach(request, get_pack_for_user(request_user(request), pk))
        return Response(s.PackSerializer(scoped.obj).data)


class PackDownload(ApiView):
    @extend_schema(responses=BINARY)
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        reach(request, get_pack_for_user(request_user(request), pk))
        return export_pages.pack_download(request._request, pk)


JOB_GETTERS: dict[str, Callable[..., Scoped[Any]]] = {
    "upscale": get_upscale_for_user,
    "pack": get_pack_for_user,
}


class JobStatusView(ApiView):
    @extend_schema(responses=s.JobStatusSerializer)
    def get(self, request: Request, kind: str, pk: int) -> Response:
        getter = JOB_GETTERS.get(kind)
        if getter is None:
            raise Http404("No such kind of job")
        job = reach(request, getter(request_user(request), pk)).obj
        return Response(
            s.JobStatusSerializer(
                {
                    "kind": kind,
                    "id": job.pk,
                    "status": job.status,
                    "progress": job.progress,
                    "message": job.message,
                    "error": job.error,
                }
            ).data
        )
