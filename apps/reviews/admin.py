from django.contrib import admin

from apps.reviews.models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["draft", "reviewer", "decision", "suggested", "created_at"]
    list_filter = ["decision"]
