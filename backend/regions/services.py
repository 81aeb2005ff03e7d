"""Writes of tenancy data, for region admins (their own region) and superusers. The admin site calls these too."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.errors import DomainError, DomainErrors
from backend.regions import area_index, calendar
from backend.regions.errors import RegionErrorCode
from backend.regions.models import Agency, Area, DayOff, Region


def _require_admin(actor: Actor, region_id: int | None) -> None:
    if not actor.administers(region_id):
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only an admin of this region may change it."))


def _validated(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise DomainErrors(
            [
                DomainError(RegionErrorCode.INVALID, " ".join(messages), field=None if name == "__all__" else name)
                for name, messages in exc.message_dict.items()
            ]
        ) from None


def save_region(*, actor: Actor, region: Region) -> Region:
    if region.pk is None and not actor.is_superuser:
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only a superuser may add a region."))
    _require_admin(actor, region.pk)
    _validated(region)
    if region.pk is None:
        region.save()
    else:  # never write back the cache versions the instance was loaded with: others may have bumped them since
        fields = [f.attname for f in Region._meta.concrete_fields if not f.primary_key]
        region.save(update_fields=[name for name in fields if name not in CACHE_VERSIONS])
    return region


CACHE_VERSIONS = ("geo_version", "calendar_version", "config_version")


def save_area(*, actor: Actor, area: Area) -> Area:
    """Create or change an area; every process reloads the region's spatial index on its next look-up."""
    _require_admin(actor, area.region_id)
    _validated(area)
    with transaction.atomic():
        area.save()
        _areas_changed(area.region)
    return area


def delete_area(*, actor: Actor, area: Area) -> None:
    _require_admin(actor, area.region_id)
    with transaction.atomic():
        area.delete()
        _areas_changed(area.region)


def _areas_changed(region: Region) -> None:
    Region.objects.filter(pk=region.pk).update(geo_version=F("geo_version") + 1)
    region.refresh_from_db(fields=["geo_version"])
    transaction.on_commit(lambda: area_index.forget_index(region.pk))


def save_region_row(*, actor: Actor, row):
    """Save a row that belongs to one region (an agency, a category, a routing rule): its admins only. Every
    process reloads the region's cached configuration (backend.complaints.config) on its next look-up."""
    _require_admin(actor, row.region_id)
    _validated(row)
    with transaction.atomic():
        before = type(row).objects.filter(pk=row.pk).values_list("region_id", flat=True).first() if row.pk else None
        row.save()
        config_changed({row.region_id, before} - {None})
    return row


def delete_region_row(*, actor: Actor, row) -> None:
    _require_admin(actor, row.region_id)
    with transaction.atomic():
        row.delete()
        config_changed({row.region_id})


def config_changed(region_ids) -> None:
    """Agencies, categories or routing rules of these regions changed: per-process caches of them are stale."""
    Region.objects.filter(pk__in=region_ids).update(config_version=F("config_version") + 1)


def save_agency(*, actor: Actor, agency: Agency) -> Agency:
    return save_region_row(actor=actor, row=agency)


def delete_agency(*, actor: Actor, agency: Agency) -> None:
    delete_region_row(actor=actor, row=agency)


def save_day_off(*, actor: Actor, day_off: DayOff) -> DayOff:
    """Add or change a day off. One without a region applies everywhere: superusers only."""
    if day_off.region_id is None and not actor.is_superuser:
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only a superuser may add a day off for every region."))
    _require_admin(actor, day_off.region_id)
    _validated(day_off)
    with transaction.atomic():
        if day_off.pk:
            before = DayOff.objects.filter(pk=day_off.pk).values_list("region_id", flat=True).first()
            _calendar_changed(before)
        day_off.save()
        _calendar_changed(day_off.region_id)
    return day_off


def delete_day_off(*, actor: Actor, day_off: DayOff) -> None:
    if day_off.region_id is None and not actor.is_superuser:
        raise DomainError(RegionErrorCode.FORBIDDEN, _("Only a superuser may remove a day off of every region."))
    _require_admin(actor, day_off.region_id)
    with transaction.atomic():
        day_off.delete()
        _calendar_changed(day_off.region_id)


def _calendar_changed(region_id: int | None) -> None:
    regions = Region.objects.all() if region_id is None else Region.objects.filter(pk=region_id)
    regions.update(calendar_version=F("calendar_version") + 1)
    transaction.on_commit(calendar.forget_days_off)
