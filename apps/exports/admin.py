from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.campaigns.channels import channels_changed
from apps.exports.models import ChannelPreset, ChannelVersion, ExportJob, FocalArea, Pack


@admin.register(ChannelPreset)
class ChannelPresetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "channel",
        "width",
        "height",
        "format",
        "quality",
        "max_bytes",
        "is_active",
        "sort_order",
    ]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["format", "channel", "is_active"]
    search_fields = ["name", "slug"]

    # Results judged on the sizes (the checks' placement rows) follow a preset's edit.
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(lambda: channels_changed(None))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(lambda: channels_changed(None))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(lambda: channels_changed(None))

    fieldsets = [
        (None, {"fields": ["name", "slug", "channel", "is_active", "sort_order"]}),
        ("Output", {"fields": ["width", "height", "format", "quality", "max_bytes", "background"]}),
        (
            "Safe area (fractions of the frame the subject stays out of)",
            {"fields": ["safe_top", "safe_right", "safe_bottom", "safe_left"]},
        ),
    ]


@admin.register(FocalArea)
class FocalAreaAdmin(admin.ModelAdmin):
    list_display = ["draft", "x", "y", "width", "height", "source", "confidence", "updated_at"]
    list_filter = ["source"]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["draft", "status", "progress", "attempts", "created_at", "finished_at"]
    list_filter = ["status"]


@admin.register(ChannelVersion)
class ChannelVersionAdmin(admin.ModelAdmin):
    list_display = ["draft", "preset", "width", "height", "format", "byte_size", "status"]
    list_filter = ["preset", "format", "status"]
    readonly_fields = [f.name for f in ChannelVersion._meta.fields]


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    list_display = ["campaign", "draft", "kind", "status", "byte_size", "created_at", "expires_at"]
    list_filter = ["kind", "status"]
