"""Reads of tenancy data. Public facts (regions, areas, agency names and contacts) are open to everyone; internals
(who works where) only to staff of the same region."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backend import sql
from backend.accounts.actor import Actor
from backend.accounts.models import Membership
from backend.errors import DomainError
from backend.keyset import Key, Keyset
from backend.regions import area_index, geo
from backend.regions.errors import RegionErrorCode
from backend.regions.models import Agency, Area, Region

# Regions by Kemendagri code, and the cursors of their pages.
BY_CODE = Keyset("regions-by-code", Key("code", kind=str), Key("id"))


def active_regions() -> QuerySet[Region]:
    return Region.objects.filter(active=True).select_related("triage_agency").order_by(*BY_CODE.order())


def _slug_or_code(value: str) -> tuple[str, str]:
    """The field a region is named by (a Kemendagri code starts with a digit, a slug never does), and the name."""
    value = (value or "").strip().lower()
    return ("code" if value[:1].isdigit() else "slug"), value


REGION_COLUMNS = ("id", "code", "name", "kind", "slug", "timezone", "triage_agency_id", "work_start", "work_end")
REGION_COLUMNS += ("work_days", "active", "geo_version", "calendar_version", "config_version")
AGENCY_COLUMNS = ("id", "region_id", "code", "name", "short_name", "email", "phone", "address", "active")
_REGION_PARTS = (sql.Part(Region, REGION_COLUMNS), sql.Part(Agency, AGENCY_COLUMNS))
_REGION_SELECT = f"SELECT {sql.columns('r', REGION_COLUMNS)}, {sql.columns('a', AGENCY_COLUMNS)}"
_REGION_FROM = " FROM regions_region r LEFT JOIN regions_agency a ON a.id = r.triage_agency_id"
# An active region with its triage agency, by code or by slug.
ACTIVE_REGION_BY = {
    field: sql.Statement(
        f"active-region-by-{field}", f"{_REGION_SELECT}{_REGION_FROM} WHERE r.{field} = %s AND r.active", _REGION_PARTS
    )
    for field in ("code", "slug")
}
# The same, with a fingerprint of the row (PostgreSQL): the row's text, hashed. Any change of the region (its versions
# too, bumped whenever its areas, days off, agencies, categories or routing rules change) changes it.
ACTIVE_REGION_WITH_FINGERPRINT_BY = {
    field: sql.Statement(
        f"active-region-with-fingerprint-by-{field}",
        f"{_REGION_SELECT}, md5(r::text){_REGION_FROM} WHERE r.{field} = %s AND r.active",
        _REGION_PARTS,
    )
    for field in ("code", "slug")
}


def _region(found: tuple | None) -> Region | None:
    if found is None:
        return None
    region, triage_agency, *fingerprint = found
    region.triage_agency = triage_agency
    if fingerprint:
        region.fingerprint = fingerprint[0]
    return region


def region_by_slug_or_code(value: str, *, queryset: QuerySet[Region] | None = None) -> Region | None:
    field, value = _slug_or_code(value)
    if queryset is not None:
        return queryset.filter(**{field: value}).first()
    # Nearly every request naming a region starts here: one named statement.
    return _region(ACTIVE_REGION_BY[field].first(value))


# The regions this process has read for writes that re-check them (cached_region), by slug or code as asked.
_cached: dict[str, Region] = {}


def cached_region(value: str, *, fresh: bool = False) -> Region | None:
    """The active region named by `value` as this process last read it (`fresh`: read it now), which may be out of
    date: a write that relies on it puts `still_current(region)` in its statement, and, if that fails, calls again
    with `fresh`. Shared by the process's threads: read it, never change it. Where `still_current` cannot be
    checked (SQLite), every call reads the database."""
    field, key = _slug_or_code(value)
    region = None if fresh else _cached.get(key)
    if region is not None:
        return region
    if connection.vendor != "postgresql":
        return region_by_slug_or_code(value)
    region = _region(ACTIVE_REGION_WITH_FINGERPRINT_BY[field].first(key))
    if region is None:
        _cached.pop(key, None)
    else:
        _cached[key] = region
    return region


def still_current(region: Region) -> tuple[str, list] | None:
    """An SQL condition that holds while `region` (from cached_region) is what the database has, active; None where
    there is nothing to check (SQLite)."""
    fingerprint = getattr(region, "fingerprint", None)
    if fingerprint is None:
        return None
    table = connection.ops.quote_name(Region._meta.db_table)
    return f"EXISTS (SELECT FROM {table} r WHERE r.id = %s AND r.active AND md5(r::text) = %s)", [
        region.pk,
        fingerprint,
    ]


def region_areas(region: Region, *, level: str | None = None) -> QuerySet[Area]:
    areas = Area.objects.filter(region=region, active=True)
    return areas.filter(level=level) if level else areas


def region_agencies(region: Region) -> QuerySet[Agency]:
    return Agency.objects.filter(region=region, active=True)


def area_at(region: Region, *, lat: float, lon: float) -> Area | None:
    """The most specific active area of the region that contains the point, or None (outside the region)."""
    if not geo.valid_point(lat, lon):
        return None
    index = area_index.area_index(region)
    area_id = index.area_id_at(lat, lon)
    return area_index.area_row(index, area_id) if area_id is not None else None


def agency_members(*, actor: Actor, agency: Agency) -> QuerySet[Membership]:
    """Who works at an agency: visible to staff of the agency's own region (and superusers) only."""
    if not actor.works_in_region(agency.region_id):
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only staff of this region can see who works here."))
    return Membership.objects.filter(agency=agency).select_related("user").order_by("role", "user__full_name")


def regions_administered(actor: Actor) -> QuerySet[Region]:
    if actor.is_superuser:
        return Region.objects.all()
    return Region.objects.filter(pk__in=actor.admin_region_ids)
