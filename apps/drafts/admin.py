from django.contrib import admin

from apps.drafts.models import Batch, Draft, PreviewJob


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "source", "created_by", "created_at"]
    list_filter = ["campaign", "source"]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["original_name", "campaign", "batch", "width", "height", "format", "decision"]
    list_filter = ["campaign", "decision", "format"]
    search_fields = ["original_name", "prompt", "sha256"]
    readonly_fields = ["sha256", "file_key", "byte_size", "width", "height", "format", "mode"]


@admin.register(PreviewJob)
class PreviewJobAdmin(admin.ModelAdmin):
    list_display = ["draft", "status", "progress", "attempts", "created_at", "finished_at"]
    list_filter = ["status"]
