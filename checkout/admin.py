"""The till log in the admin: read-only (checks are written by the till, never by hand)."""
from django.contrib import admin

from .models import TillCheck


@admin.register(TillCheck)
class TillCheckAdmin(admin.ModelAdmin):
    list_display = ("checked_at", "kind", "code", "member", "associate", "can_shop", "status", "offline", "user")
    list_filter = ("kind", "can_shop", "offline", "checked_at")
    search_fields = ("code", "member__last_name", "member__first_name", "user__username")
    list_select_related = ("member", "associate", "user")
    date_hierarchy = "checked_at"
    ordering = ("-checked_at", "-id")
    fields = ("checked_at", "kind", "user", "code", "member", "associate", "can_shop", "status", "reasons", "offline", "reason")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
