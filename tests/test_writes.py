"""backend.writes: rows of several models written all or nothing; on PostgreSQL in one statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from backend import writes
from backend.cases.models import Audience, Case, CaseEvent, CaseKind, OutboxMessage, TrackingSequence
from backend.complaints.workflow import ComplaintStatus
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


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_values_read_back_as_when_django_writes_them(demo, resident):
    """Each model's rows travel as one JSON parameter: every kind of value must come back exactly as it does from
    Django's own INSERT (choices' members, floats to the last digit, aware and naive datetimes, NULLs, nested JSON
    with nulls and non-ASCII text, UUIDs, a bool given to an integer field)."""
    region = demo["muba"]
    aware = dt.datetime(2031, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    naive = dt.datetime(2031, 1, 2, 10, 4, 5)  # Django reads it in TIME_ZONE (Asia/Jakarta)

    def rows(code: str, batched: bool = False) -> list:
        case = Case(
            kind=CaseKind.COMPLAINT,
            tracking_code=code,
            region=region,
            resident=resident,
            status=ComplaintStatus.SUBMITTED,  # a member of TextChoices, not a str
            lat=-2.8996591234567,
            lon=103.98047591,
            h3_cell="8a8c8da34937fff",
            submitted_at=aware,
            due_at=naive,
            transfer_hops=True,  # Django writes 1
            idempotency_key="",
        )
        if batched:  # keys first, as open_case takes them: the rows below refer to the case by its key
            with_keys([case])
        event = CaseEvent(
            case=case,
            seq=1,
            type="submitted",
            visibility="public",
            payload={
                "reason": '#5: Lampu jalan → DISHUB \\ "kutip" \u00e9',
                "none": None,
                "list": [1, 2.5, None, True],
            },
            created_at=aware,
            prev_hash="0" * 64,
            hash=code.ljust(64, "f"),
        )
        if batched:
            with_keys([event])
        outbox = OutboxMessage(case=case, event=event, audience=Audience.USER, audience_id=resident.pk, event_type="x")
        return [case, event, outbox]

    with pytest.warns(RuntimeWarning, match="naive datetime"):
        django = rows("TST-DJANGO")
        for obj in django:
            obj.save()
    batched = rows("TST-BATCHED", batched=True)
    with pytest.warns(RuntimeWarning, match="naive datetime"), writes.insert_batch() as batch:
        for obj in batched:
            batch.add([obj])

    def read(objs) -> list[dict]:
        found = []
        for obj in objs:
            row = type(obj).objects.filter(pk=obj.pk).values().get()
            found.append({k: v for k, v in row.items() if k not in ("id", "case_id", "event_id", "tracking_code")})
        return found

    django_rows, batched_rows = read(django), read(batched)
    for row in (*django_rows, *batched_rows):  # timestamps the fields take themselves
        for name in ("created_at", "updated_at", "next_attempt_at"):
            row.pop(name, None)
        row.pop("hash", None)
    assert batched_rows == django_rows
    assert batched_rows[0]["transfer_hops"] == 1 and batched_rows[0]["due_at"] == dt.datetime(
        2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC
    )
    assert batched_rows[1]["payload"]["none"] is None and batched_rows[0]["assignee_id"] is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_value_the_column_refuses_fails_the_batch_as_django_would(demo):
    region = demo["muba"]
    sequence = with_keys([TrackingSequence(region=region, prefix="TOO-LONG-A-PREFIX", year=2031)])
    with pytest.raises(DataError), writes.insert_batch() as batch:
        batch.add(sequence)
    with pytest.raises(ValueError), writes.insert_batch() as batch:  # not JSON: refused before anything is sent
        batch.add(with_keys([Case(region=region, lat=float("nan"), lon=0.0, kind="complaint")]))
    assert not TrackingSequence.objects.filter(year=2031).exists() and not Case.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_guard_that_fails_writes_nothing_and_runs_nothing_after(demo):
    region = demo["muba"]
    written = []
    no_days_off_in_2031 = (
        "NOT EXISTS (SELECT FROM regions_dayoff WHERE region_id = %s AND date > %s)",
        [region.pk, "2030-12-31"],
    )
    with CaptureQueriesContext(connection) as queries:
        with writes.insert_batch(guard=no_days_off_in_2031) as batch:
            batch.add(with_keys(rows(region, 2)))
            batch.then("SELECT pg_notify('never-sent', 'x')", [])
            batch.after_write(lambda: written.append(True))
        assert not batch.refused and written == [True]
        with writes.insert_batch(guard=no_days_off_in_2031) as again:
            again.add(with_keys(rows(region, 3)))
            again.after_write(lambda: written.append(False))
    assert again.refused and written == [True]
    assert list(DayOff.objects.filter(region=region, date__year=2031).values_list("name", flat=True)) == ["Libur 2"]
    assert [q["sql"].split()[0] for q in queries].count("WITH") == 2  # the guard is checked by the writing statement
