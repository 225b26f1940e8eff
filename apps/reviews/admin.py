from django.contrib import admin

from apps.reviews.models import Region, Review, ReviewSettings, SignOff


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["draft", "reviewer", "decision", "suggested", "needs_sign_off", "created_at"]
    list_filter = ["decision", "needs_sign_off"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["draft", "category", "note", "revision", "created_at"]
    list_filter = ["category"]


@admin.register(SignOff)
class SignOffAdmin(admin.ModelAdmin):
    list_display = ["review", "signed_by", "created_at"]


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = ["campaign", "sign_off", "product_reference_name", "updated_at"]
    readonly_fields = [
        "product_reference_key",
        "product_reference_sha256",
        "product_reference_width",
        "product_reference_height",
        "product_reference_content_type",
    ]
