"""backend.writes: rows of several models written all or nothing; on PostgreSQL in one statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from backend import writes
from backend.cases.models import TrackingSequence
from backend.regions.models import DayOff

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="batches are one statement on PostgreSQL")


def rows(region, *days):
    return [DayOff(region=region, date=dt.date(2031, 1, day), name=f"Libur {day}") for day in days]


def counter(region):
    return TrackingSequence(region=region, prefix="TST", year=2031, last_value=7)


def with_keys(objs):
    """Primary keys taken ahead, as open_case does on PostgreSQL (elsewhere the database assigns them)."""
    if writes.batched():
        for model in {type(obj) for obj in objs}:
            mine = [obj for obj in objs if type(obj) is model]
            sql, params = writes.reserve_ids_sql(model, len(mine))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {sql}", params)
                (keys,) = cursor.fetchone()
            for obj, key in zip(mine, keys, strict=True):
                obj.pk = key
    return objs


@pytest.mark.django_db(transaction=True)
def test_rows_of_several_models_are_written_together(demo):
    region = demo["muba"]
    days, sequence = with_keys(rows(region, 2, 3)), with_keys([counter(region)])
    written = []
    with CaptureQueriesContext(connection) as queries, writes.insert_batch() as batch:
        batch.add(days)
        batch.add(sequence)
        batch.after_write(lambda: written.append(DayOff.objects.filter(region=region, date__year=2031).count()))
    assert written == [2]  # the callback ran once the rows were there
    assert {d.name for d in DayOff.objects.filter(region=region, date__year=2031)} == {"Libur 2", "Libur 3"}
    assert TrackingSequence.objects.get(region=region, prefix="TST").last_value == 7
    assert all(not obj._state.adding for obj in [*days, *sequence])
    if writes.batched():
        # One statement for the rows (no BEGIN, no COMMIT), then the callback's count.
        assert [q["sql"].split()[0] for q in queries] == ["WITH", "SELECT"]
        # The saved instances behave as saved ones: an update is an UPDATE of that row.
        sequence[0].last_value = F("last_value") + 1
        sequence[0].save(update_fields=["last_value"])
        assert TrackingSequence.objects.get(region=region, prefix="TST").last_value == 8


@pytest.mark.django_db(transaction=True)
def test_a_failing_row_writes_nothing(demo):
    region = demo["muba"]
    DayOff.objects.create(region=region, date=dt.date(2031, 1, 3), name="Sudah ada")
    with pytest.raises(IntegrityError), writes.insert_batch() as batch:
        batch.add(with_keys([counter(region)]))
        batch.add(with_keys(rows(region, 2, 3)))  # 3 January exists: the unique constraint refuses the batch
    assert not TrackingSequence.objects.filter(region=region, prefix="TST").exists()
    assert list(DayOff.objects.filter(region=region, date__year=2031).values_list("name", flat=True)) == ["Sudah ada"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_leaves_the_callers_transaction_usable(demo):
    region = demo["muba"]
    with transaction.atomic():
        DayOff.objects.create(region=region, date=dt.date(2031, 1, 3), name="Sudah ada")
        with pytest.raises(IntegrityError), writes.insert_batch() as batch:
            batch.add(with_keys(rows(region, 3)))
        DayOff.objects.create(region=region, date=dt.date(2031, 1, 4), name="Sesudahnya")
    assert sorted(DayOff.objects.filter(region=region, date__year=2031).values_list("name", flat=True)) == [
        "Sesudahnya",
        "Sudah ada",
    ]


@postgres_only
@pytest.mark.django_db
def test_refusals(demo):
    region = demo["muba"]
    with pytest.raises(ValueError, match="primary key"), writes.insert_batch() as batch:
        batch.add(rows(region, 5))
    with pytest.raises(TypeError, match="expressions"), writes.insert_batch() as batch:
        sequence = with_keys([counter(region)])
        sequence[0].last_value = F("last_value") + 1
        batch.add(sequence)
    with writes.insert_batch() as batch:
        batch.then("SELECT 1", [])
        with pytest.raises(ValueError, match="one final SELECT"):
            batch.then("SELECT 2", [])
