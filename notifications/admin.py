"""The outbox and push deliveries in the admin: for operators to see what is pending or failed and why. Read-only:
delivery state changes only through notifications.delivery."""

from django.contrib import admin

from backend.cases.admin import ReadOnlyMixin
from backend.regions.admin import RegionScopedAdmin
from notifications.models import OutboxMessage, PushDelivery


class CaseRegionScoped(ReadOnlyMixin, RegionScopedAdmin):
    region_lookup = "case__region_id"

    def _region_of(self, obj):
        return obj.case.region_id

    def has_view_permission(self, request, obj=None):
        return RegionScopedAdmin.has_view_permission(self, request, obj)

    def has_module_permission(self, request):
        return RegionScopedAdmin.has_module_permission(self, request)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(CaseRegionScoped):
    list_display = ("created_at", "case", "event_type", "audience", "audience_id", "status", "attempts", "last_error")
    list_filter = ("status", "audience", "event_type")
    search_fields = ("case__tracking_code",)
    list_select_related = ("case",)
    date_hierarchy = "created_at"


@admin.register(PushDelivery)
class PushDeliveryAdmin(CaseRegionScoped):
    region_lookup = "message__case__region_id"
    list_display = ("message", "device", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status",)
    search_fields = ("message__case__tracking_code",)
    list_select_related = ("message__case", "device__user")

    def _region_of(self, obj):
        return obj.message.case.region_id
