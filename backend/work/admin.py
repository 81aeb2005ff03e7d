"""Cases in the admin are for looking, not changing: every change goes through `transition()`, and timeline events
have no update or delete path at all. People on a case are named as the API names them: the reporter of an anonymous
complaint only to the handling agency (complaints.selectors.person_label)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backend.cases.models import Case, CaseEvent
from backend.complaints import selectors as complaint_selectors
from backend.regions.admin import ReadOnlyMixin, RegionScopedAdmin, labelled, request_actor


class CaseEventInline(ReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    fields = ("seq", "type", "by", "visibility", "payload", "created_at", "hash")
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        actor = request_actor(request)

        def by(event):
            return complaint_selectors.person_label(actor, event.case, event.actor)

        return ("seq", "type", labelled(_("by"), by), "visibility", "payload", "created_at", "hash")

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "case__complaint")


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, RegionScopedAdmin):
    list_display = ("tracking_code", "kind", "status", "agency", "area", "submitted_at", "due_at", "region")
    list_filter = ("region", "kind", "status")
    search_fields = ("tracking_code",)
    list_select_related = ("region", "agency", "area")
    date_hierarchy = "submitted_at"
    inlines = (CaseEventInline,)
    exclude = ("idempotency_key", "resident")

    def get_readonly_fields(self, request, obj=None):
        actor = request_actor(request)

        def reporter(case):
            return complaint_selectors.person_label(actor, case, case.resident)

        return (labelled(_("reporter"), reporter), *super().get_readonly_fields(request, obj))

    def has_view_permission(self, request, obj=None):
        return RegionScopedAdmin.has_view_permission(self, request, obj)

    def has_module_permission(self, request):
        return RegionScopedAdmin.has_module_permission(self, request)
