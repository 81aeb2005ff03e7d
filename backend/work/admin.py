"""Cases in the admin are for looking, not changing: every change goes through `transition()`, and timeline events
have no update or delete path at all. People on a case are named as the API names them: the reporter of an anonymous
complaint only to the handling agency (complaints.selectors.person_label)."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from backend.cases.models import Case, CaseEvent, CaseKind
from backend.cases.workflow import STATUS_LABELS
from backend.complaints import selectors as complaint_selectors
from backend.regions.admin import ReadOnlyMixin, RegionScopedAdmin, labelled, request_actor
from backend.work import services
from backend.work.models import ReplyTemplate
from media.models import AttachmentKind
from media.storage import url_for


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


class StatusFilter(admin.SimpleListFilter):
    """Statuses by their translated names, not their codes."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return list(STATUS_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, RegionScopedAdmin):
    list_display = ("tracking_code", "kind", "status_label", "agency", "area", "submitted_at", "due_at", "region")
    list_filter = ("region", "kind", StatusFilter)
    search_fields = ("tracking_code",)
    list_select_related = ("region", "agency", "area")
    date_hierarchy = "submitted_at"
    inlines = (CaseEventInline,)
    exclude = ("idempotency_key", "resident")

    def get_readonly_fields(self, request, obj=None):
        actor = request_actor(request)

        def reporter(case):
            return complaint_selectors.person_label(actor, case, case.resident)

        def description(case):
            return case.complaint.description if case.kind == CaseKind.COMPLAINT else "—"

        def photos(case):
            if case.kind != CaseKind.COMPLAINT or not complaint_selectors.shows_photos(actor, case):
                return "—"
            shown = case.attachments.filter(kind=AttachmentKind.PHOTO).order_by("position")
            return (
                format_html_join(
                    " ",
                    '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" width="160"></a>',
                    ((url_for(a.storage_key), url_for(a.small_key)) for a in shown),
                )
                or "—"
            )

        return (
            "status_label",
            labelled(_("reporter"), reporter),
            labelled(_("description"), description),
            labelled(_("photos"), photos),
            *super().get_readonly_fields(request, obj),
        )

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, case):
        return STATUS_LABELS.get(case.status, case.status)

    def has_view_permission(self, request, obj=None):
        return RegionScopedAdmin.has_view_permission(self, request, obj)

    def has_module_permission(self, request):
        return RegionScopedAdmin.has_module_permission(self, request)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(RegionScopedAdmin):
    """Agencies' ready answers, offered in the console's reply form."""

    list_display = ("title", "agency", "active")
    list_filter = ("agency", "active")
    search_fields = ("title", "text")
    save_service = staticmethod(services.save_reply_template)
    delete_service = staticmethod(services.delete_reply_template)
