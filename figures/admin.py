from django.contrib import admin

from .models import FiguresSnapshot


@admin.register(FiguresSnapshot)
class FiguresSnapshotAdmin(admin.ModelAdmin):
    """The stored daily figures, read-only (the daily job and `update_figures` write them)."""

    list_display = ["as_of", "computed_at"]
    readonly_fields = ["as_of", "computed_at", "data"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
