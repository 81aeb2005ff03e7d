"""The outbox and push deliveries in the admin: for operators to see what is pending or failed and why. Read-only:
delivery state changes only through notifications.delivery."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backend.accounts.models import User
from backend.cases.models import Audience, OutboxMessage
from backend.complaints import selectors as complaint_selectors
from backend.regions.admin import ReadOnlyMixin, RegionScopedAdmin, labelled, request_actor
from notifications.models import PushDelivery


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
    list_filter = ("status", "audience", "event_type")
    search_fields = ("case__tracking_code",)
    list_select_related = ("case__complaint",)
    date_hierarchy = "created_at"
    exclude = ("audience_id",)

    def get_list_display(self, request):
        return ("created_at", "case", "event_type", self._to(request), "status", "attempts", "last_error")

    def get_readonly_fields(self, request, obj=None):
        return (self._to(request), *super().get_readonly_fields(request, obj))

    @staticmethod
    def _to(request):
        """Who the row is for; a person as the API names them (an anonymous reporter only to the handling agency)."""
        actor, users = request_actor(request), {}

        def to(row):
            if row.audience != Audience.USER:
                return f"{row.get_audience_display()} {row.audience_id}"
            if row.audience_id not in users:  # one look-up per person on the page
                users[row.audience_id] = User.objects.filter(pk=row.audience_id).first()
            return complaint_selectors.person_label(actor, row.case, users[row.audience_id])

        return labelled(_("to"), to)


@admin.register(PushDelivery)
class PushDeliveryAdmin(CaseRegionScoped):
    region_lookup = "message__case__region_id"
    list_filter = ("status",)
    search_fields = ("message__case__tracking_code",)
    list_select_related = ("message__case__complaint", "device__user")
    exclude = ("device",)

    def get_list_display(self, request):
        return ("message", self._to(request), "status", "attempts", "next_attempt_at", "sent_at", "last_error")

    def get_readonly_fields(self, request, obj=None):
        return (self._to(request), *super().get_readonly_fields(request, obj))

    @staticmethod
    def _to(request):
        actor = request_actor(request)

        def device(push):
            who = complaint_selectors.person_label(actor, push.message.case, push.device.user)
            return f"{push.device.get_platform_display()} · {who}"

        return labelled(_("device"), device)

    def _region_of(self, obj):
        return obj.message.case.region_id
