from django.contrib import admin

from apps.comments.models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["draft", "author", "parent", "resolved_at", "created_at"]
    list_select_related = ["draft", "author"]
    raw_id_fields = ["draft", "parent", "author", "resolved_by", "mentions"]
