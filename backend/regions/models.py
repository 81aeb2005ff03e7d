"""Tenancy: a Region (Pemda) owns its Areas (kecamatan/kelurahan/desa), its Agencies (OPD) and its calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from backend.regions import geo

region_code_validator = RegexValidator(
    r"^\d{2}(\.\d{2})?$", _("Use the Kemendagri code: 2 digits for a province, e.g. 16, or 16.06 for a regency.")
)
area_code_validator = RegexValidator(
    r"^\d{2}\.\d{2}\.\d{2}(\.\d{4})?$",
    _("Use the Kemendagri code: 16.06.01 for a kecamatan, 16.06.01.2001 for a kelurahan or desa."),
)
work_days_validator = RegexValidator(
    r"^(?!.*(\d).*\1)[1-7]{1,7}$", _("List the working weekdays as digits 1 (Monday) to 7 (Sunday), e.g. 12345.")
)


class RegionKind(models.TextChoices):
    PROVINSI = "provinsi", _("Province")
    KABUPATEN = "kabupaten", _("Regency")
    KOTA = "kota", _("City")


class RegionTimezone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta)")
    WITA = "Asia/Makassar", _("WITA (Asia/Makassar)")
    WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura)")


class Region(models.Model):
    code = models.CharField(_("Kemendagri code"), max_length=5, unique=True, validators=[region_code_validator])
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=RegionKind.choices)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    timezone = models.CharField(_("time zone"), max_length=20, choices=RegionTimezone.choices)
    triage_agency = models.ForeignKey(
        "regions.Agency",
        verbose_name=_("triage agency"),
        help_text=_("Receives what no routing rule matches."),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    work_start = models.TimeField(_("office opens"), default=dt.time(8, 0))
    work_end = models.TimeField(_("office closes"), default=dt.time(16, 0))
    work_days = models.CharField(_("working weekdays"), max_length=7, default="12345", validators=[work_days_validator])
    active = models.BooleanField(_("active"), default=True)
    # Bumped by the services whenever areas, days off, or agencies, complaint categories and routing rules change,
    # so per-process caches know to reload.
    geo_version = models.PositiveIntegerField(default=0, editable=False)
    calendar_version = models.PositiveIntegerField(default=0, editable=False)
    config_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(work_end__gt=models.F("work_start")), name="region_office_hours_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def working_weekdays(self) -> frozenset[int]:
        """ISO weekdays (1 = Monday) on which offices open."""
        return frozenset(int(d) for d in self.work_days)

    def clean(self) -> None:
        if self.work_start and self.work_end and self.work_end <= self.work_start:
            raise ValidationError({"work_end": _("The office must close after it opens.")})
        if self.triage_agency_id and self.pk and self.triage_agency.region_id != self.pk:
            raise ValidationError({"triage_agency": _("The triage agency must belong to this region.")})


class AreaLevel(models.TextChoices):
    KECAMATAN = "kecamatan", _("District (kecamatan)")
    KELURAHAN = "kelurahan", _("Urban village (kelurahan)")
    DESA = "desa", _("Village (desa)")


# How deep a level sits in the hierarchy: the deepest area containing a point is the most specific answer.
AREA_DEPTH = {AreaLevel.KECAMATAN: 1, AreaLevel.KELURAHAN: 2, AreaLevel.DESA: 2}


class Area(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(_("Kemendagri code"), max_length=13, validators=[area_code_validator])
    name = models.CharField(_("name"), max_length=120)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent area"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), help_text=_("A GeoJSON Polygon or MultiPolygon, lon/lat."))
    min_lon = models.FloatField(editable=False)
    min_lat = models.FloatField(editable=False)
    max_lon = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["region", "code"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="area_code_unique_in_region")]
        indexes = [models.Index(fields=["region", "level"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors = {}
        try:
            shape = geo.parse_boundary(self.boundary)
        except geo.BoundaryError as exc:
            errors["boundary"] = str(exc)
        else:
            self.boundary = geo.normalise_geojson(shape)
            self.min_lon, self.min_lat, self.max_lon, self.max_lat = shape.bounds
        if self.code and self.region_id and not self.code.startswith(self.region.code + "."):
            errors["code"] = _("An area code starts with its region's code (%(code)s.).") % {"code": self.region.code}
        if self.parent_id:
            parent = self.parent
            if parent.region_id != self.region_id:
                errors["parent"] = _("The parent area must be in the same region.")
            elif AREA_DEPTH[parent.level] >= AREA_DEPTH[self.level]:
                errors["parent"] = _("A %(level)s cannot be the parent of a %(child)s.") % {
                    "level": parent.get_level_display(),
                    "child": self.get_level_display(),
                }
            elif self.code and not self.code.startswith(parent.code + "."):
                errors["code"] = _("A sub-area code starts with its parent's code (%(code)s.).") % {"code": parent.code}
        elif self.level != AreaLevel.KECAMATAN:
            errors["parent"] = _("A kelurahan or desa needs its kecamatan as parent.")
        if errors:
            raise ValidationError(errors)


class Agency(models.Model):
    """An OPD (Organisasi Perangkat Daerah): Dinas PUPR, Dishub, DLH, DPMPTSP, Satpol PP, …"""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="agencies")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency (OPD)")
        verbose_name_plural = _("agencies (OPD)")
        ordering = ["region", "short_name"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="agency_code_unique_in_region")]

    def __str__(self) -> str:
        return self.short_name


class DayOffKind(models.TextChoices):
    CUTI_BERSAMA = "cuti_bersama", _("Collective leave (cuti bersama)")
    LOCAL_HOLIDAY = "local_holiday", _("Local holiday")
    OTHER = "other", _("Other day off")


class DayOff(models.Model):
    """A day off beyond the national holidays of the `holidays` package. No region: it applies to every region."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="days_off",
        help_text=_("Leave empty for a day off in every region (e.g. cuti bersama)."),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=DayOffKind.choices, default=DayOffKind.CUTI_BERSAMA)

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["region", "date"], name="day_off_unique_per_region"),
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(region__isnull=True), name="day_off_unique_national"
            ),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class NationalDaysOff(models.Model):
    """Indonesia's public holidays and cuti bersama of one year as the `holidays` package gives them, worked out once
    (`manage.py prepare_calendar`, a daily Celery task) so that web processes read them instead of loading the
    package. `source` names the package version and `settings.HOLIDAY_CATEGORIES`: an upgrade or another choice of
    categories is a new row, never a stale one."""

    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=200)
    days = models.JSONField(_("days off"), default=dict, help_text=_("ISO date to the holiday's Indonesian name."))
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("national days off (holidays package)")
        verbose_name_plural = _("national days off (holidays package)")
        ordering = ["-year", "source"]
        constraints = [models.UniqueConstraint(fields=["year", "source"], name="national_days_off_unique_source")]

    def __str__(self) -> str:
        return f"{self.year} ({self.source})"
