"""Permit types in the admin. A type's content changes only by adding a version (the "Add permit type version" form,
pre-filled from the current one with `?from=<version id>`), so applications already filed keep what they were asked;
the type itself can only be switched on or off. Applications are read-only here: they move through the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError, DomainErrors
from backend.permits import catalogue
from backend.permits.models import PermitApplication, PermitType, PermitTypeVersion
from backend.regions.admin import ReadOnlyMixin, RegionScopedAdmin, request_actor
from backend.regions.models import Agency, Region

EDITION_FIELDS = [
    "name_id",
    "name_en",
    "description",
    "handling_agency",
    "reviewing_agencies",
    "applicant_kinds",
    "form_schema",
    "documents",
    "sla_working_days",
    "fee",
    "validity_days",
    "deemed_approval",
    "number_format",
]
# The service names fields as the API does; the form's are the model's.
FIELD_OF = {
    "name": "name_id",
    "handlingAgency": "handling_agency",
    "reviewingAgencies": "reviewing_agencies",
    "applicantKinds": "applicant_kinds",
    "slaWorkingDays": "sla_working_days",
    "formSchema": "form_schema",
    "fee": "fee",
    "validityDays": "validity_days",
    "numberFormat": "number_format",
}


class VersionForm(forms.ModelForm):
    region = forms.ModelChoiceField(queryset=Region.objects.all())
    code = forms.SlugField(max_length=40, help_text=_("The type's code; an existing code gets a new version."))

    class Meta:
        model = PermitTypeVersion
        fields = EDITION_FIELDS

    def edition(self) -> catalogue.TypeEdition:
        data = self.cleaned_data
        return catalogue.TypeEdition(
            name_id=data["name_id"],
            name_en=data["name_en"],
            description=data.get("description") or "",
            handling_agency_id=data["handling_agency"].pk,
            reviewing_agency_ids=[a.pk for a in data.get("reviewing_agencies") or []],
            applicant_kinds=data.get("applicant_kinds") or [],
            form_schema=data.get("form_schema") or {},
            documents=data.get("documents") or [],
            sla_working_days=data["sla_working_days"],
            fee=data.get("fee") or {"kind": "none"},
            validity_days=data.get("validity_days"),
            deemed_approval=data.get("deemed_approval", False),
            number_format=data["number_format"],
        )

    def clean(self):
        data = super().clean()
        if self.errors or not data.get("region") or not data.get("handling_agency"):
            return data
        for error in catalogue.edition_errors(data["region"], self.edition()):
            field = (error.field or "").split(".")[0]
            self.add_error(FIELD_OF.get(field) if FIELD_OF.get(field) in self.fields else None, error.message)
        return data


@admin.register(PermitTypeVersion)
class PermitTypeVersionAdmin(RegionScopedAdmin):
    region_lookup = "permit_type__region_id"
    form = VersionForm
    list_display = ("permit_type", "number", "name_id", "handling_agency", "sla_working_days", "created_at")
    list_filter = ("permit_type__region",)
    search_fields = ("permit_type__code", "name_id", "name_en")

    def _region_of(self, obj):
        return obj.permit_type.region_id

    def get_fields(self, request, obj=None):
        return ["region", "code", *EDITION_FIELDS] if obj is None else EDITION_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return EDITION_FIELDS if obj is not None else ()  # a version written is never changed

    def get_changeform_initial_data(self, request):
        source = PermitTypeVersion.objects.filter(pk=request.GET.get("from") or 0).select_related("permit_type").first()
        if source is None or not request_actor(request).administers(source.permit_type.region_id):
            return super().get_changeform_initial_data(request)
        initial = {name: getattr(source, name) for name in EDITION_FIELDS if name != "reviewing_agencies"}
        initial.update(
            region=source.permit_type.region_id,
            code=source.permit_type.code,
            handling_agency=source.handling_agency_id,
            reviewing_agencies=list(source.reviewing_agencies.values_list("pk", flat=True)),
        )
        return initial

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        actor = request_actor(request)
        if db_field.name == "reviewing_agencies" and not actor.is_superuser:
            kwargs["queryset"] = Agency.objects.filter(region_id__in=actor.admin_region_ids)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "handling_agency" and field is not None and not request_actor(request).is_superuser:
            field.queryset = Agency.objects.filter(region_id__in=request_actor(request).admin_region_ids)
        return field

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        actor = request_actor(request)
        if obj is None and not actor.is_superuser:
            form.base_fields["region"].queryset = Region.objects.filter(pk__in=actor.admin_region_ids)
        return form

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            version = catalogue.save_permit_type(
                actor=request_actor(request),
                region_id=form.cleaned_data["region"].pk,
                code=form.cleaned_data["code"],
                edition=form.edition(),
            )
        except (DomainError, DomainErrors) as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = version.pk

    def save_related(self, request, form, formsets, change):
        return  # the service set the reviewing agencies


@admin.register(PermitType)
class PermitTypeAdmin(RegionScopedAdmin):
    save_service = staticmethod(catalogue.save_permit_type_row)
    list_display = ("code", "region", "active", "created_at")
    list_filter = ("region", "active")
    fields = ("region", "code", "active")
    readonly_fields = ("region", "code")

    def has_add_permission(self, request):
        return False  # types are created by adding their first version


@admin.register(PermitApplication)
class PermitApplicationAdmin(ReadOnlyMixin, RegionScopedAdmin):
    list_display = ("__str__", "type_version", "applicant_name", "nik_masked", "permit_number", "created_at")
    list_filter = ("region",)
    search_fields = ("case__tracking_code", "permit_number")
    exclude = ("nik_encrypted", "nik_hash")

    def get_queryset(self, request):
        """Submitted applications only: a draft is the resident's own until it is submitted."""
        return super().get_queryset(request).filter(case__isnull=False)

    def has_view_permission(self, request, obj=None):
        return RegionScopedAdmin.has_view_permission(self, request, obj)

    def has_module_permission(self, request):
        return RegionScopedAdmin.has_module_permission(self, request)
