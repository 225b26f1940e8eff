from django.contrib import admin

from apps.rework.models import Assignment, Notification


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["draft", "kind", "assignee", "assigned_by", "due_date", "status"]
    list_filter = ["status", "kind", "campaign"]
    raw_id_fields = ["draft", "result_draft", "result_revision"]
    filter_horizontal = ["regions"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "title", "created_at", "read_at", "email_state"]
    list_filter = ["kind", "email_state"]
