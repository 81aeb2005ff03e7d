"""Working-day arithmetic: weekends, national holidays (the `holidays` package), cuti bersama and local days off
from the admin table, office hours, and each region's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.regions import calendar, services
from backend.regions.models import DayOff, DayOffKind, Region

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")


@pytest.fixture
def region(db):
    return Region.objects.create(
        code="16.06", name="Kabupaten Musi Banyuasin", kind="kabupaten", slug="muba", timezone="Asia/Jakarta"
    )


@pytest.fixture
def superuser(db):
    return Actor.for_user(User.objects.create_superuser("root", "root@example.org", "x"))


def at(y, m, d, h=10, minute=0, tz=WIB):
    return dt.datetime(y, m, d, h, minute, tzinfo=tz)


def test_skips_the_weekend(region):
    # Thursday 2026-11-19 + 2 working days: Friday, Monday -> Monday 16:00.
    assert calendar.add_working_days(region, at(2026, 11, 19), 2) == at(2026, 11, 23, 16)


def test_skips_a_national_holiday(region):
    # Friday 2026-08-14 + 1: Monday 2026-08-17 is Independence Day, so Tuesday.
    assert calendar.add_working_days(region, at(2026, 8, 14), 1) == at(2026, 8, 18, 16)


def test_skips_cuti_bersama_known_to_the_holidays_package(region):
    # 2026-03-19 Nyepi, 03-20 cuti bersama, 03-21/22 Idul Fitri (weekend), 03-23/24 cuti bersama.
    assert calendar.add_working_days(region, at(2026, 3, 18), 1) == at(2026, 3, 25, 16)


def test_skips_a_day_off_entered_by_an_admin(region, superuser):
    # Tuesday 2026-11-24 declared a local holiday: Monday + 1 -> Wednesday.
    before = calendar.add_working_days(region, at(2026, 11, 23), 1)
    assert before == at(2026, 11, 24, 16)
    services.save_day_off(
        actor=superuser,
        day_off=DayOff(region=region, date=dt.date(2026, 11, 24), name="Hari jadi", kind=DayOffKind.LOCAL_HOLIDAY),
    )
    region.refresh_from_db()
    assert calendar.add_working_days(region, at(2026, 11, 23), 1) == at(2026, 11, 25, 16)


def test_a_nationwide_row_applies_to_every_region(region, superuser):
    other = Region.objects.create(
        code="73.72", name="Kota Parepare", kind="kota", slug="parepare", timezone="Asia/Makassar"
    )
    services.save_day_off(actor=superuser, day_off=DayOff(region=None, date=dt.date(2026, 11, 24), name="Cuti bersama"))
    region.refresh_from_db()
    other.refresh_from_db()
    assert not calendar.is_working_day(region, dt.date(2026, 11, 24))
    assert not calendar.is_working_day(other, dt.date(2026, 11, 24))


def test_removing_a_day_off_makes_it_a_working_day_again(region, superuser):
    day_off = services.save_day_off(
        actor=superuser, day_off=DayOff(region=region, date=dt.date(2026, 11, 24), name="x")
    )
    region.refresh_from_db()
    assert not calendar.is_working_day(region, dt.date(2026, 11, 24))
    services.delete_day_off(actor=superuser, day_off=day_off)
    region.refresh_from_db()
    assert calendar.is_working_day(region, dt.date(2026, 11, 24))


def test_after_hours_counts_from_the_next_day(region):
    # Friday 20:00 + 1 working day -> Monday close.
    assert calendar.add_working_days(region, at(2026, 11, 20, 20), 1) == at(2026, 11, 23, 16)


def test_six_day_week(region):
    region.work_days = "123456"
    assert calendar.add_working_days(region, at(2026, 11, 20), 1) == at(2026, 11, 21, 16)


def test_deadline_is_in_the_regions_time_zone(region):
    region.timezone = "Asia/Jayapura"
    region.__dict__.pop("tz", None)
    due = calendar.add_working_days(region, at(2026, 11, 19, 10, tz=WIT), 1)
    assert due == at(2026, 11, 20, 16, tz=WIT)
    assert due.astimezone(WIB).hour == 14


def test_working_time_between_counts_office_hours_only(region):
    # Friday 15:00 -> Monday 09:30: one hour Friday, 1.5 hours Monday.
    assert calendar.working_time_between(region, at(2026, 11, 20, 15), at(2026, 11, 23, 9, 30)) == dt.timedelta(
        hours=2, minutes=30
    )
    # Across a holiday week-day: Friday 14 Aug 15:00 -> Tuesday 18 Aug 09:00 = 1 h + 1 h (Monday 17th is off).
    assert calendar.working_time_between(region, at(2026, 8, 14, 15), at(2026, 8, 18, 9)) == dt.timedelta(hours=2)
    assert calendar.working_time_between(region, at(2026, 11, 23, 12), at(2026, 11, 23, 11)) == dt.timedelta(0)


def test_add_working_time_rolls_over_nights_weekends_and_holidays(region):
    assert calendar.add_working_time(region, at(2026, 11, 20, 15), dt.timedelta(hours=3)) == at(2026, 11, 23, 10)
    assert calendar.add_working_time(region, at(2026, 8, 14, 15), dt.timedelta(hours=2)) == at(2026, 8, 18, 9)
    # Starting on a Saturday counts from Monday's opening.
    assert calendar.add_working_time(region, at(2026, 11, 21, 11), dt.timedelta(hours=1)) == at(2026, 11, 23, 9)
    # Before opening counts from the opening.
    assert calendar.add_working_time(region, at(2026, 11, 23, 6), dt.timedelta(hours=8)) == at(2026, 11, 23, 16)


def test_add_working_time_and_working_time_between_agree(region):
    start = at(2026, 12, 22, 13, 17)
    for hours in (1, 7, 8, 9, 40, 100):
        end = calendar.add_working_time(region, start, dt.timedelta(hours=hours))
        assert calendar.working_time_between(region, start, end) == dt.timedelta(hours=hours)


def test_across_the_year_boundary(region):
    # Wed 2026-12-30 + 2: Thursday 31st, (Fri 1 Jan holiday, weekend), Monday 4 Jan 2027.
    assert calendar.add_working_days(region, at(2026, 12, 30), 2) == at(2027, 1, 4, 16)


def test_refuses_naive_datetimes_and_bad_counts(region):
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_days(region, dt.datetime(2026, 11, 23, 10), 1)
    with pytest.raises(ValueError, match="at least 1"):
        calendar.add_working_days(region, at(2026, 11, 23), 0)
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_time(region, at(2026, 11, 23), dt.timedelta(hours=-1))


def test_region_admins_manage_only_their_days_off(region):
    other = Region.objects.create(
        code="73.72", name="Kota Parepare", kind="kota", slug="parepare", timezone="Asia/Makassar"
    )
    from backend.accounts.models import Membership, Role

    user = User.objects.create_user("admin.muba", password="x")
    Membership.objects.create(user=user, region=region, role=Role.REGION_ADMIN)
    actor = Actor.for_user(user)
    from backend.errors import DomainError

    services.save_day_off(actor=actor, day_off=DayOff(region=region, date=dt.date(2026, 11, 24), name="ok"))
    with pytest.raises(DomainError) as refused:
        services.save_day_off(actor=actor, day_off=DayOff(region=other, date=dt.date(2026, 11, 24), name="no"))
    assert refused.value.code == "forbidden"
    with pytest.raises(DomainError):
        services.save_day_off(actor=actor, day_off=DayOff(region=None, date=dt.date(2026, 11, 25), name="no"))


def test_duplicate_day_off_is_a_field_error(region, superuser):
    from backend.errors import DomainErrors

    services.save_day_off(actor=superuser, day_off=DayOff(region=region, date=dt.date(2026, 11, 24), name="a"))
    with pytest.raises(DomainErrors):
        services.save_day_off(actor=superuser, day_off=DayOff(region=region, date=dt.date(2026, 11, 24), name="b"))
