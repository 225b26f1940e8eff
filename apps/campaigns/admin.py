from django.contrib import admin
from django.http import HttpRequest

from apps.campaigns.models import AuditEvent, Campaign, Invitation, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "key_message", "created_by", "created_at", "archived_at"]
    list_filter = ["archived_at"]
    search_fields = ["name", "brief", "key_message"]
    autocomplete_fields = ["created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["campaign", "user", "role", "created_at"]
    list_filter = ["role", "campaign"]
    search_fields = ["user__username", "campaign__name"]
    autocomplete_fields = ["user", "campaign"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "campaign", "actor", "verb", "summary"]
    list_filter = ["verb", "campaign"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made in the app (the link is e-mailed once; only its hash is here)."""

    list_display = ["email", "campaign", "role", "invited_by", "expires_at", "accepted_at"]
    list_filter = ["role", "campaign"]
    search_fields = ["email", "campaign__name"]
    readonly_fields = [f.name for f in Invitation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
