"""Integrations in the admin site, for a region's admins: made and changed through the services (checked and
audited), keys issued (the secret shown once, in the page's message) and revoked, the audit log read."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from backend.accounts.actor import Scope
from backend.errors import DomainError
from backend.integrations import services
from backend.integrations.models import SCOPE_LABELS, ApiKey, AuditEntry, Integration
from backend.regions.admin import ReadOnlyMixin, RegionScopedAdmin, request_actor


class IntegrationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(scope.value, SCOPE_LABELS[scope]) for scope in Scope],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Integration
        fields = ("region", "name", "contact_name", "contact_email", "scopes", "active")


class KeyInline(ReadOnlyMixin, admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0


class AuditInline(ReadOnlyMixin, admin.TabularInline):
    model = AuditEntry
    fields = ("at", "user", "action", "detail")
    readonly_fields = fields
    extra = 0


@admin.register(Integration)
class IntegrationAdmin(RegionScopedAdmin):
    form = IntegrationForm
    list_display = ("name", "region", "contact_email", "active")
    list_filter = ("active",)
    search_fields = ("name", "contact_email")
    inlines = [KeyInline, AuditInline]
    actions = ["issue_key"]
    save_service = staticmethod(services.save_integration_row)

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead: its audit log stays

    @admin.action(description=_("Issue a new API key (shown once)"))
    def issue_key(self, request, queryset):
        for integration in queryset:
            try:
                issued = services.issue_key(actor=request_actor(request), integration_id=integration.pk, name="admin")
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.message_user(
                request,
                _("API key for %(name)s (copy it now, it is not shown again): %(key)s")
                % {"name": integration.name, "key": issued.secret},
                messages.WARNING,
            )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyMixin, RegionScopedAdmin):
    region_lookup = "integration__region_id"
    list_display = ("__str__", "integration", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    actions = ["revoke"]

    def _region_of(self, obj):
        return obj.integration.region_id

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            services.revoke_key(actor=request_actor(request), key_id=key.pk)
        self.message_user(request, _("Revoked."), messages.SUCCESS)
