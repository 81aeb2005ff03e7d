"""Admin for tenancy data. Superusers see everything; a region admin sees and edits only their own region."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from backend.accounts import services as account_services
from backend.accounts.actor import Actor
from backend.accounts.models import Membership, User
from backend.errors import DomainError, DomainErrors
from backend.regions import services
from backend.regions.models import Agency, Area, DayOff, NationalDaysOff, Region


def request_actor(request) -> Actor:
    if not hasattr(request, "_simpul_actor"):
        request._simpul_actor = Actor.for_user(request.user)
    return request._simpul_actor


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def labelled(description, function):
    function.short_description = description
    return function


class RegionScopedAdmin(admin.ModelAdmin):
    """Rows are scoped by `region_lookup` to the regions the signed-in user administers."""

    region_lookup = "region_id"
    save_service = None
    delete_service = None

    def _region_of(self, obj) -> int | None:
        return getattr(obj, self.region_lookup)

    def _allowed(self, request, obj=None) -> bool:
        actor = request_actor(request)
        if actor.is_superuser:
            return True
        if not actor.admin_region_ids:
            return False
        return obj is None or actor.administers(self._region_of(obj))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        actor = request_actor(request)
        if actor.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.region_lookup}__in": actor.admin_region_ids})

    def get_list_filter(self, request):
        """Filters on a relation (region, agency…) offer only what the admin's own rows name: no other region's
        names, and no agency listed twice because two regions both have one of that name."""
        return tuple(
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and get_fields_from_path(self.model, name)[-1].is_relation
            else name
            for name in super().get_list_filter(request)
        )

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        actor = request_actor(request)
        if not actor.is_superuser:
            model = db_field.related_model
            if model is Region:
                kwargs["queryset"] = Region.objects.filter(pk__in=actor.admin_region_ids)
            elif hasattr(model, "region_id"):
                kwargs["queryset"] = model.objects.filter(region_id__in=actor.admin_region_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            self.save_service(actor=request_actor(request), **{self.model._meta.model_name: obj})
        except (DomainError, DomainErrors) as exc:
            raise PermissionDenied(str(exc)) from exc

    def delete_model(self, request, obj):
        if self.delete_service is None:
            return super().delete_model(request, obj)
        try:
            self.delete_service(actor=request_actor(request), **{self.model._meta.model_name: obj})
        except DomainError as exc:
            raise PermissionDenied(str(exc)) from exc

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin):
    region_lookup = "pk"
    save_service = staticmethod(services.save_region)
    list_display = ("code", "name", "kind", "timezone", "triage_agency", "active")
    list_filter = ("kind", "timezone", "active")
    search_fields = ("code", "name", "slug")

    def get_readonly_fields(self, request, obj=None):
        return () if request_actor(request).is_superuser else ("code", "slug", "kind", "active")

    def has_add_permission(self, request):
        return request_actor(request).is_superuser

    def has_delete_permission(self, request, obj=None):
        return request_actor(request).is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "triage_agency":
            region_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Agency.objects.filter(region_id=region_id) if region_id else Agency.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Area)
class AreaAdmin(RegionScopedAdmin):
    save_service = staticmethod(services.save_area)
    delete_service = staticmethod(services.delete_area)
    list_display = ("code", "name", "level", "parent", "region", "active")
    list_filter = ("region", "level", "active")
    search_fields = ("code", "name")
    readonly_fields = ("min_lon", "min_lat", "max_lon", "max_lat")
    list_select_related = ("region", "parent")


@admin.register(Agency)
class AgencyAdmin(RegionScopedAdmin):
    save_service = staticmethod(services.save_agency)
    delete_service = staticmethod(services.delete_agency)
    list_display = ("short_name", "name", "code", "region", "active")
    list_filter = ("region", "active")
    search_fields = ("code", "name", "short_name")
    list_select_related = ("region",)


@admin.register(DayOff)
class DayOffAdmin(RegionScopedAdmin):
    """Region admins see the nationwide days off too, read-only, beside their own."""

    save_service = staticmethod(services.save_day_off)
    delete_service = staticmethod(services.delete_day_off)
    list_display = ("date", "name", "kind", "region")
    list_filter = ("kind", "region")
    date_hierarchy = "date"
    list_select_related = ("region",)

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        actor = request_actor(request)
        if actor.is_superuser:
            return queryset
        return queryset.filter(Q(region_id__in=actor.admin_region_ids) | Q(region__isnull=True))

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.region_id is None:
            return bool(request_actor(request).admin_region_ids) or request_actor(request).is_superuser
        return super().has_view_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request_actor(request).is_superuser and "region" in form.base_fields:
            form.base_fields["region"].required = True
        return form


@admin.register(NationalDaysOff)
class NationalDaysOffAdmin(admin.ModelAdmin):
    """The national holidays and cuti bersama as the `holidays` package gave them: to read, never to edit (a day the
    package lacks is a nationwide day off above)."""

    list_display = ("year", "source", "count", "prepared_at")
    list_filter = ("year",)
    fields = ("year", "source", "listing", "prepared_at")
    readonly_fields = fields

    @admin.display(description=_("days off"))
    def count(self, obj) -> int:
        return len(obj.days)

    @admin.display(description=_("days off"))
    def listing(self, obj):
        return format_html_join("", "<div>{} {}</div>", sorted(obj.days.items()))

    def has_module_permission(self, request):
        actor = request_actor(request)
        return actor.is_superuser or bool(actor.admin_region_ids)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(RegionScopedAdmin):
    save_service = staticmethod(account_services.save_membership)
    delete_service = staticmethod(account_services.delete_membership)
    list_display = ("user", "role", "agency", "region", "created_at")
    list_filter = ("role", "region")
    search_fields = ("user__username", "user__email", "user__full_name", "agency__short_name")
    list_select_related = ("user", "agency", "region")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        actor = request_actor(request)
        if db_field.name == "user" and not actor.is_superuser:
            # Staff accounts (made by a superuser) that work nowhere yet or already in this admin's region.
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_superuser=False).exclude(
                memberships__region_id__in=Membership.objects.exclude(region_id__in=actor.admin_region_ids).values(
                    "region_id"
                )
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
