"""Reads of tenancy data. Public facts (regions, areas, agency names and contacts) are open to everyone; internals
(who works where) only to staff of the same region."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backend import compiled
from backend.accounts.actor import Actor
from backend.accounts.models import Membership
from backend.errors import DomainError
from backend.regions import geo
from backend.regions.errors import RegionErrorCode
from backend.regions.models import Agency, Area, Region


def active_regions() -> QuerySet[Region]:
    return Region.objects.filter(active=True).select_related("triage_agency")


def region_by_slug_or_code(value: str, *, queryset: QuerySet[Region] | None = None) -> Region | None:
    value = (value or "").strip().lower()
    field = "code" if value[:1].isdigit() else "slug"
    if queryset is not None:
        return queryset.filter(**{field: value}).first()
    # Nearly every request naming a region starts here: the look-up's SQL is compiled once per process and thread.
    return compiled.first(("active-region-by", field), lambda v: active_regions().filter(**{field: v}), value)


def region_areas(region: Region, *, level: str | None = None) -> QuerySet[Area]:
    areas = Area.objects.filter(region=region, active=True)
    return areas.filter(level=level) if level else areas


def region_agencies(region: Region) -> QuerySet[Agency]:
    return Agency.objects.filter(region=region, active=True)


def area_at(region: Region, *, lat: float, lon: float) -> Area | None:
    """The most specific active area of the region that contains the point, or None (outside the region)."""
    if not geo.valid_point(lat, lon):
        return None
    index = geo.area_index(region)
    area_id = index.area_id_at(lat, lon)
    return geo.area_row(index, area_id) if area_id is not None else None


def agency_members(*, actor: Actor, agency: Agency) -> QuerySet[Membership]:
    """Who works at an agency: visible to staff of the agency's own region (and superusers) only."""
    if not actor.works_in_region(agency.region_id):
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only staff of this region can see who works here."))
    return Membership.objects.filter(agency=agency).select_related("user").order_by("role", "user__full_name")


def regions_administered(actor: Actor) -> QuerySet[Region]:
    if actor.is_superuser:
        return Region.objects.all()
    return Region.objects.filter(pk__in=actor.admin_region_ids)
