"""Working-day calendar of a region: its office weekdays and hours, minus national holidays and days off.

National holidays and cuti bersama come from the `holidays` package (country ID, categories in
`settings.HOLIDAY_CATEGORIES`), worked out ahead of time into `NationalDaysOff` rows; `DayOff` rows add days an admin
enters (a cuti bersama decreed late, a local holiday). All arithmetic is in the region's own time zone, so a
deadline in Jayapura closes at 16:00 WIT.

Deadline rule (docs/working-days.md): *n working days* from an instant ends when the office closes on the n-th
working day after the instant's local date; *a working duration* is counted inside office hours only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from functools import lru_cache
from importlib import metadata

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q

MAX_SCAN_DAYS = 366 * 20
logger = logging.getLogger("simpul.calendar")


@lru_cache(maxsize=1)
def _holidays_version() -> str:
    return metadata.version("holidays")  # read from the package's metadata: the package itself is not loaded


def holiday_source() -> str:
    """What national days off are worked out from: the `holidays` version and `settings.HOLIDAY_CATEGORIES`."""
    return f"holidays {_holidays_version()}: {','.join(settings.HOLIDAY_CATEGORIES)}"


def national_days_off(year: int) -> dict[dt.date, str]:
    """Indonesia's public holidays and cuti bersama of a year, with their Indonesian names: one database read per
    process and year. Loading `holidays` and computing a year costs a web process about 10 MiB (19 in a bare
    interpreter), so years are prepared beforehand (`manage.py prepare_calendar` on deploy, the daily
    `regions.prepare_calendar` task); a year that was not is worked out here once and stored for every other
    process."""
    return _national_days_off(year, holiday_source())


@lru_cache(maxsize=64)
def _national_days_off(year: int, source: str) -> dict[dt.date, str]:
    from backend.regions.models import NationalDaysOff

    stored = NationalDaysOff.objects.filter(year=year, source=source).values_list("days", flat=True).first()
    if stored is not None:
        return {dt.date.fromisoformat(day): name for day, name in stored.items()}
    logger.warning(
        "The calendar of %s was not prepared for %s (manage.py prepare_calendar): working it out in this process",
        year,
        source,
    )
    days = compute_national_days_off(year)
    try:
        store_national_days_off(year, source, days)
    except DatabaseError:  # a deadline must not fail because the row could not be written; the next process retries
        logger.warning("Could not store the national days off of %s", year, exc_info=True)
    return days


def compute_national_days_off(year: int) -> dict[dt.date, str]:
    """Ask the `holidays` package (loaded here, and only here)."""
    import holidays

    found = holidays.country_holidays("ID", years=year, categories=settings.HOLIDAY_CATEGORIES, language="id")
    return {day: str(name) for day, name in sorted(found.items())}


def store_national_days_off(year: int, source: str, days: dict[dt.date, str]) -> None:
    """Store a year's days off for a source. Idempotent and safe when processes store the same year at once: the
    first row wins (`ON CONFLICT DO NOTHING`), and the others, holding the same days, leave it be."""
    from backend.regions.models import NationalDaysOff

    row = NationalDaysOff(year=year, source=source, days={day.isoformat(): name for day, name in sorted(days.items())})
    with transaction.atomic():  # a savepoint: a failed insert leaves the caller's transaction usable
        NationalDaysOff.objects.bulk_create([row], ignore_conflicts=True)


def prepare_national_days_off(years) -> dict[int, bool]:
    """Work out and store every year of `years` that has no row for the current source. Returns, for each year,
    whether it was worked out now (False: it was already prepared)."""
    from backend.regions.models import NationalDaysOff

    years = sorted(set(years))
    source = holiday_source()
    prepared = set(NationalDaysOff.objects.filter(year__in=years, source=source).values_list("year", flat=True))
    for year in years:
        if year not in prepared:
            store_national_days_off(year, source, compute_national_days_off(year))
    return {year: year not in prepared for year in years}


def forget_national_days_off() -> None:
    _national_days_off.cache_clear()


_region_days: dict[tuple[int, int], tuple[int, dict[dt.date, str]]] = {}
_lock = threading.Lock()


def days_off(region, year: int) -> dict[dt.date, str]:
    """Every non-working date of the year for the region (weekends aside), cached per `Region.calendar_version`."""
    key = (region.pk, year)
    cached = _region_days.get(key)
    if cached is not None and cached[0] >= region.calendar_version:
        return cached[1]
    from backend.regions.models import DayOff, Region

    version = Region.objects.filter(pk=region.pk).values_list("calendar_version", flat=True).first() or 0
    merged = dict(national_days_off(year))
    rows = DayOff.objects.filter(Q(region_id=region.pk) | Q(region__isnull=True), date__year=year)
    merged.update(rows.values_list("date", "name"))
    with _lock:
        _region_days[key] = (version, merged)
    return merged


def forget_days_off() -> None:
    with _lock:
        _region_days.clear()


def is_working_day(region, day: dt.date) -> bool:
    return day.isoweekday() in region.working_weekdays and day not in days_off(region, day.year)


def office_window(region, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = region.tz
    return dt.datetime.combine(day, region.work_start, tzinfo=tz), dt.datetime.combine(day, region.work_end, tzinfo=tz)


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def next_working_day(region, day: dt.date) -> dt.date:
    """The first working day strictly after `day`."""
    for _ in range(MAX_SCAN_DAYS):
        day += dt.timedelta(days=1)
        if is_working_day(region, day):
            return day
    raise ValueError("no working day within twenty years: check the region's working weekdays and days off")


def add_working_days(region, start: dt.datetime, days: int) -> dt.datetime:
    """Close of business on the `days`-th working day after `start`'s local date (days >= 1), in UTC like every
    instant the calendar hands out (the API shows times in UTC; apps convert to the region's zone)."""
    _require_aware(start, "start")
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start.astimezone(region.tz).date()
    for _ in range(days):
        day = next_working_day(region, day)
    return office_window(region, day)[1].astimezone(dt.UTC)


def add_working_time(region, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """The instant (in UTC) when `duration` of office time has passed since `start`."""
    _require_aware(start, "start")
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative")
    local = start.astimezone(region.tz)
    day = local.date()
    remaining = duration
    if not is_working_day(region, day):
        day = next_working_day(region, day)
    for _ in range(MAX_SCAN_DAYS):
        opens, closes = office_window(region, day)
        begin = max(local, opens)
        if begin < closes:
            if remaining <= closes - begin:
                return (begin + remaining).astimezone(dt.UTC)
            remaining -= closes - begin
        day = next_working_day(region, day)
    raise ValueError("duration too long for the calendar")


def working_time_between(region, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Office time between two instants (zero when end is not after start)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return dt.timedelta(0)
    tz = region.tz
    start_local, end_local = start.astimezone(tz), end.astimezone(tz)
    total = dt.timedelta(0)
    day = start_local.date()
    while day <= end_local.date():
        if is_working_day(region, day):
            opens, closes = office_window(region, day)
            begin, finish = max(start_local, opens), min(end_local, closes)
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total
