"""Cases in the admin are for looking, not changing: every change goes through `transition()`, and timeline events
have no update or delete path at all."""

from django.contrib import admin

from backend.cases.models import Case, CaseEvent
from backend.regions.admin import RegionScopedAdmin


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(ReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    fields = ("seq", "type", "actor", "visibility", "payload", "created_at", "hash")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, RegionScopedAdmin):
    list_display = ("tracking_code", "kind", "status", "agency", "area", "submitted_at", "due_at", "region")
    list_filter = ("region", "kind", "status")
    search_fields = ("tracking_code",)
    list_select_related = ("region", "agency", "area")
    date_hierarchy = "submitted_at"
    inlines = (CaseEventInline,)
    exclude = ("idempotency_key",)

    def has_view_permission(self, request, obj=None):
        return RegionScopedAdmin.has_view_permission(self, request, obj)

    def has_module_permission(self, request):
        return RegionScopedAdmin.has_module_permission(self, request)
