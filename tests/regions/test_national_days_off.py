"""National days off are worked out from the `holidays` package ahead of time (`manage.py prepare_calendar`, the daily
`regions.prepare_calendar` task) and stored per year and source; web processes read them from the database and do not
load the package (about 19 MiB a process)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from backend.regions import calendar
from backend.regions.models import NationalDaysOff
from backend.regions.tasks import prepare_calendar

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
INDEPENDENCE_DAY = dt.date(2026, 8, 17)
CUTI_BERSAMA_NYEPI = dt.date(2026, 3, 20)  # category "government" of the holidays package


@pytest.fixture(autouse=True)
def _no_years_known_to_this_process():
    calendar.forget_national_days_off()
    yield
    calendar.forget_national_days_off()


def source(categories=("public", "government")) -> str:
    return f"holidays {metadata.version('holidays')}: {','.join(categories)}"


def test_the_command_prepares_the_years_it_is_given():
    out = io.StringIO()
    call_command("prepare_calendar", "--years", "2026", "2027", stdout=out)
    assert out.getvalue().splitlines() == [f"2026: prepared ({source()})", f"2027: prepared ({source()})"]
    rows = {row.year: row for row in NationalDaysOff.objects.all()}
    assert set(rows) == {2026, 2027}
    assert {row.source for row in rows.values()} == {source()}
    assert rows[2026].days[INDEPENDENCE_DAY.isoformat()] == "Hari Kemerdekaan Republik Indonesia"
    assert CUTI_BERSAMA_NYEPI.isoformat() in rows[2026].days

    again = io.StringIO()
    call_command("prepare_calendar", "--years", "2027", "2028", stdout=again)
    assert again.getvalue().splitlines() == [f"2027: already prepared ({source()})", f"2028: prepared ({source()})"]
    assert NationalDaysOff.objects.count() == 3


def test_the_command_prepares_last_year_to_two_years_ahead_by_default():
    call_command("prepare_calendar", stdout=io.StringIO())
    this_year = timezone.localdate().year
    assert sorted(NationalDaysOff.objects.values_list("year", flat=True)) == list(range(this_year - 1, this_year + 3))


def test_the_daily_task_prepares_this_year_and_the_next_when_missing():
    this_year = timezone.localdate().year
    assert prepare_calendar.delay().get() == [this_year, this_year + 1]
    assert prepare_calendar.delay().get() == []
    assert sorted(NationalDaysOff.objects.values_list("year", flat=True)) == [this_year, this_year + 1]


def test_a_prepared_year_is_read_with_one_query_without_the_holidays_package(monkeypatch, django_assert_num_queries):
    calendar.prepare_national_days_off([2026])
    worked_out = calendar.compute_national_days_off(2026)
    monkeypatch.setitem(sys.modules, "holidays", None)  # `import holidays` now fails
    with django_assert_num_queries(1):
        assert calendar.national_days_off(2026) == worked_out
    with django_assert_num_queries(0):
        assert calendar.national_days_off(2026) == worked_out  # once per process and year


def test_the_stored_row_is_what_every_process_reads():
    NationalDaysOff.objects.create(year=2031, source=source(), days={"2031-01-02": "Hari uji"})  # another process's
    assert calendar.national_days_off(2031) == {dt.date(2031, 1, 2): "Hari uji"}


def test_a_year_not_prepared_is_worked_out_and_stored_with_a_warning(caplog):
    days = calendar.national_days_off(2031)
    assert days[dt.date(2031, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert any(
        "calendar of 2031 was not prepared" in r.getMessage() for r in caplog.records if r.levelname == "WARNING"
    )
    row = NationalDaysOff.objects.get(year=2031)
    assert row.source == source()
    assert row.days == {day.isoformat(): name for day, name in days.items()}


def test_other_categories_are_another_source_and_worked_out_anew(settings):
    calendar.prepare_national_days_off([2026])
    assert CUTI_BERSAMA_NYEPI in calendar.national_days_off(2026)
    settings.HOLIDAY_CATEGORIES = ("public",)
    public_only = calendar.national_days_off(2026)
    assert INDEPENDENCE_DAY in public_only
    assert CUTI_BERSAMA_NYEPI not in public_only
    assert set(NationalDaysOff.objects.filter(year=2026).values_list("source", flat=True)) == {
        source(),
        source(("public",)),
    }


def test_storing_a_year_again_keeps_the_first_row_and_the_transaction_usable():
    days = {dt.date(2031, 1, 1): "Tahun Baru Masehi"}
    with transaction.atomic():
        calendar.store_national_days_off(2031, source(), days)
        calendar.store_national_days_off(2031, source(), {dt.date(2031, 1, 2): "Hari uji"})
        assert NationalDaysOff.objects.get(year=2031).days == {"2031-01-01": "Tahun Baru Masehi"}


def test_the_cache_is_not_needed(settings):
    """Redis away: the national days off still come from the database."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    settings.CACHES = caches
    calendar.prepare_national_days_off([2026])
    assert calendar.national_days_off(2026)[INDEPENDENCE_DAY]


def needs_a_database_server():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database server: SQLite's test database lives in one connection")


@pytest.mark.django_db(transaction=True)
def test_processes_storing_the_same_year_at_once_all_succeed():
    """Six threads, each on its own database connection, store the same year at the same moment."""
    needs_a_database_server()
    days = calendar.compute_national_days_off(2026)
    start = threading.Barrier(6)

    def store(_worker):
        try:
            start.wait(timeout=10)
            calendar.store_national_days_off(2026, source(), days)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(store, range(6)))  # re-raises any thread's error
    assert NationalDaysOff.objects.filter(year=2026, source=source()).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_fresh_process_reads_a_prepared_year_without_loading_holidays():
    needs_a_database_server()
    calendar.prepare_national_days_off([2026])
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    script = (
        "import json, sys, django; django.setup();"
        "from backend.regions.calendar import national_days_off;"
        "days = national_days_off(2026);"
        "print(json.dumps({'loaded': 'holidays' in sys.modules, 'days': {d.isoformat(): n for d, n in days.items()}}))"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "backend.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["loaded"] is False, done.stderr
    assert answer["days"][INDEPENDENCE_DAY.isoformat()] == "Hari Kemerdekaan Republik Indonesia"


def test_serving_code_does_not_load_holidays_when_imported():
    script = (
        "import sys, django; django.setup();"
        "import backend.urls, backend.asgi, backend.regions.admin, backend.regions.tasks, schema;"
        "print('holidays' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split()[-1] == "False", done.stderr
