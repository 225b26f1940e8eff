"""The API's shapes. Outputs read model rows; inputs only validate and go to the services."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from apps.campaigns.models import Campaign
from apps.checks.models import CheckResult
from apps.drafts.models import Batch, Draft
from apps.exports.models import ChannelVersion, ExportJob, Pack, PackKind
from apps.reviews.models import Review
from apps.reviews.selectors import decision_version
from apps.rework.models import Assignment
from apps.upscales.models import UpscaleJob

JOB_FIELDS = ["status", "progress", "message", "error", "queued_at", "started_at", "finished_at"]


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "brief",
            "key_message",
            "product_requirements",
            "brand_rules",
            "target_channels",
            "created_at",
            "role",
        ]

    def get_role(self, campaign: Campaign) -> str:
        return str(self.context.get("roles", {}).get(campaign.pk, ""))


class BatchSerializer(serializers.ModelSerializer[Batch]):
    class Meta:
        model = Batch
        fields = ["id", "campaign", "name", "note", "source", "created_at"]
        read_only_fields = ["id", "campaign", "source", "created_at"]


class DraftSerializer(serializers.ModelSerializer[Draft]):
    decision_version = serializers.SerializerMethodField(
        help_text="Send back as expected_version with a decision or sign-off: the API answers "
        "409 instead of overwriting a decision that changed meanwhile."
    )

    class Meta:
        model = Draft
        fields = [
            "id",
            "campaign",
            "batch",
            "parent",
            "original_name",
            "sha256",
            "byte_size",
            "width",
            "height",
            "format",
            "revision",
            "decision",
            "proposed_decision",
            "decided_at",
            "signed_off_at",
            "uploaded_at",
            "decision_version",
        ]

    def get_decision_version(self, draft: Draft) -> str:
        return decision_version(draft)


class ReviewSerializer(serializers.ModelSerializer[Review]):
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "reviewer",
            "decision",
            "note",
            "checklist",
            "suggested",
            "revision",
            "needs_sign_off",
            "created_at",
        ]


class CheckResultSerializer(serializers.ModelSerializer[CheckResult]):
    class Meta:
        model = CheckResult
        fields = ["key", "kind", "label", "status", "value", "value_label", "explanation"]


class DraftDetailSerializer(DraftSerializer):
    """A draft with its generation metadata, checks, decisions (every review, its note the
    comment) and marked regions; the view passes the related rows in the context."""

    checks = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    regions = serializers.SerializerMethodField()

    class Meta(DraftSerializer.Meta):
        fields = [
            *DraftSerializer.Meta.fields,
            "prompt",
            "negative_prompt",
            "generator",
            "model_name",
            "seed",
            "parameters",
            "metadata_sources",
            "checks",
            "reviews",
            "regions",
        ]

    def get_checks(self, draft: Draft) -> list[dict[str, Any]]:
        return CheckResultSerializer(self.context["checks"], many=True).data

    def get_reviews(self, draft: Draft) -> list[dict[str, Any]]:
        return ReviewSerializer(self.context["reviews"], many=True).data

    def get_regions(self, draft: Draft) -> list[dict[str, Any]]:
        return list(self.context["regions"])


class DraftUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    metadata = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The folder import's JSON sidecar as a string: prompt, negative_prompt, "
        "generator, model, seed, parameters, references…",
    )

    def validate_metadata(self, value: str) -> dict[str, Any]:
        if not value:
            return {}
        try:
            mapping = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("Not JSON.") from None
        if not isinstance(mapping, dict):
            raise serializers.ValidationError("Send a JSON object.")
        return mapping


class IntakeResultSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    status = serializers.ChoiceField(["added", "duplicate", "rejected", "error"])
    message = serializers.CharField()
    code = serializers.CharField()
    draft_id = serializers.IntegerField(allow_null=True)


class DecideSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(["keep", "regenerate", "reject"])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    checklist = serializers.DictField(required=False, default=dict)
    regions = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    expected_version = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="the draft's decision_version"
    )


class SignOffSerializer(serializers.Serializer[Any]):
    expected_version = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="the draft's decision_version"
    )


class AssignmentSerializer(serializers.ModelSerializer[Assignment]):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assigned_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "campaign",
            "draft",
            "draft_revision",
            "kind",
            "assignee",
            "assigned_by",
            "instructions",
            "due_date",
            "status",
            "created_at",
            "completed_at",
            "result_draft",
        ]


class SubmitRevisionSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class UpscaleRequestSerializer(serializers.Serializer[Any]):
    model = serializers.CharField()
    scale = serializers.FloatField(required=False, allow_null=True, default=None)
    fit_largest_channel = serializers.BooleanField(required=False, default=False)
    then_export = serializers.BooleanField(required=False, default=False)


class UpscaleSerializer(serializers.ModelSerializer[UpscaleJob]):
    class Meta:
        model = UpscaleJob
        fields = [
            "id",
            "draft",
            "model_name",
            "scale",
            "used_model",
            "output_width",
            "output_height",
            "output_bytes",
            *JOB_FIELDS,
        ]


class ChannelVersionSerializer(serializers.ModelSerializer[ChannelVersion]):
    preset = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ChannelVersion
        fields = ["id", "preset", "width", "height", "master_source"]


class ExportJobSerializer(serializers.ModelSerializer[ExportJob]):
    class Meta:
        model = ExportJob
        fields = ["id", "draft", *JOB_FIELDS]


class ExportsSerializer(serializers.Serializer[Any]):
    job = ExportJobSerializer(allow_null=True)
    versions = ChannelVersionSerializer(many=True)


class PackRequestSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(PackKind.choices, default=PackKind.ZIP)
    draft = serializers.IntegerField(required=False, allow_null=True, default=None)
    # As the Packs page's "Build with what can be made": without it a zip whose drafts are too
    # small for some target channels is refused, naming them (nothing ships short silently).
    without_missing = serializers.BooleanField(required=False, default=False)


class PackSerializer(serializers.ModelSerializer[Pack]):
    class Meta:
        model = Pack
        fields = [
            "id",
            "campaign",
            "draft",
            "kind",
            "file_count",
            "byte_size",
            "sha256",
            "expires_at",
            *JOB_FIELDS,
        ]


class JobStatusSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.FloatField()
    message = serializers.CharField()
    error = serializers.CharField()
