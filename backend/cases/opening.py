"""Opening a case: its tracking number and its first rows — the case, its first timeline events, their outbox rows
and the kind's own rows — written all or nothing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from backend import sql
from backend.accounts.actor import Actor
from backend.cases import moves, outbox
from backend.cases.models import (
    CASE_COLUMNS,
    TRACKING_PREFIX,
    Case,
    CaseEvent,
    OutboxMessage,
    TrackingSequence,
    Visibility,
)
from backend.cases.timeline import GENESIS, chained_event


def allocate_tracking_code(*, region, kind: str, at: datetime) -> str:
    """The next `ADU-YYYY-NNNNNN` of the region (year in the region's time zone), in one statement: an upsert of the
    counter row that returns the new value, so two submissions never get the same number. Inside a transaction the
    counter row stays locked until that transaction ends, which serialises every submission of the region behind
    it. Codes may have gaps (a submission that fails after taking its number), never clashes."""
    (number,) = _take_from_counter(region=region, kind=kind, at=at, count=1, quick_commit=False)
    return _code(kind, at.astimezone(region.tz).year, number)


def _code(kind: str, year: int, number: int) -> str:
    return f"{TRACKING_PREFIX[kind]}-{year}-{number:06d}"


def _take_from_counter(*, region, kind: str, at: datetime, count: int, quick_commit: bool) -> range:
    """`count` consecutive numbers of the region's counter for `kind` and the year of `at`, in one upsert."""
    table = connection.ops.quote_name(TrackingSequence._meta.db_table)
    # Alone in its transaction, the statement's commit need not wait for the disk: a case written with one of the
    # numbers commits after it, waiting for the log up to its own commit, which holds the counter's. A crash before
    # that loses the numbers with the cases that used them, and they are handed out again: no clash.
    quick = ", set_config('synchronous_commit', 'off', true)" if quick_commit else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_id, prefix, year, last_value) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (region_id, prefix, year) "
            f"DO UPDATE SET last_value = {table}.last_value + EXCLUDED.last_value RETURNING last_value{quick}",
            [region.pk, TRACKING_PREFIX[kind], at.astimezone(region.tz).year, count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


# Tracking numbers taken ahead by this process, per (region, prefix, year): a block lasts about BLOCK_SECONDS at the
# rate the previous one went, between 1 (a quiet region: codes in submission order, as one statement each gives
# them) and BLOCK_MAX (a busy one: one statement per BLOCK_MAX submissions). Codes from two processes interleave
# within a block's time, and a process that stops leaves the rest of its blocks as gaps.
BLOCK_SECONDS = 0.5
BLOCK_MAX = 64


@dataclass
class _Block:
    numbers: Iterator[int]
    size: int
    taken_at: float


_blocks: dict[tuple[int, str, int], _Block] = {}
_blocks_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: _blocks.clear())  # a child must not hand out its parent's numbers


def _next_tracking_code(region, kind: str, at: datetime) -> str:
    """A code for a case about to be opened: from this process's block of the region's numbers outside a
    transaction; inside one (whose rollback would give the numbers back to the counter while the block kept them),
    straight from the counter."""
    if connection.in_atomic_block:
        return allocate_tracking_code(region=region, kind=kind, at=at)
    year = at.astimezone(region.tz).year
    key = (region.pk, TRACKING_PREFIX[kind], year)
    with _blocks_lock:
        block = _blocks.get(key)
        number = next(block.numbers, None) if block is not None else None
        if number is None:
            now = time.monotonic()
            size = 1
            if block is not None:  # used up: size the next one on the rate this one went
                rate = block.size / max(now - block.taken_at, 1e-3)
                size = max(1, min(BLOCK_MAX, round(rate * BLOCK_SECONDS)))
            numbers = iter(_take_from_counter(region=region, kind=kind, at=at, count=size, quick_commit=True))
            block = _blocks[key] = _Block(numbers, size, now)
            number = next(block.numbers)
    return _code(kind, year, number)


# Primary keys of cases and of their events taken ahead by this process, KEY_BLOCK of each at a time in one statement:
# an opening needs its case's key before it writes (the key is part of its events' hashes), and taking it with a
# statement of its own cost a submission a round trip (bench/README.md, "Complaints"). Sequences never go back, so a
# key is never handed out twice; a process that stops leaves its unused keys as gaps.
KEY_BLOCK = 64
_keys: dict[str, list[int]] = {"case": [], "event": []}
os.register_at_fork(after_in_child=lambda: [keys.clear() for keys in _keys.values()])  # never the parent's keys


def _next_keys(events: int) -> tuple[int, list[int]]:
    """A case's key and `events` keys for its events (PostgreSQL)."""
    with _blocks_lock:
        if not _keys["case"] or len(_keys["event"]) < events:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)),"
                    " ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s))",
                    [Case._meta.db_table, KEY_BLOCK, CaseEvent._meta.db_table, max(KEY_BLOCK, events)],
                )
                cases, event_keys = cursor.fetchone()
            _keys["case"].extend(cases)
            _keys["event"].extend(event_keys)
        case_key = _keys["case"].pop(0)
        event_keys, _keys["event"] = _keys["event"][:events], _keys["event"][events:]
    return case_key, event_keys


class AlreadyOpened(Exception):
    """open_case found a case the same resident opened with the same idempotency key: nothing was written."""

    def __init__(self, case_id: int):
        super().__init__(case_id)
        self.case_id = case_id


class Outdated(Exception):
    """What an opening relied on (`still`: a region as the process cached it) has changed: nothing was written."""


def _same_key(case: Case) -> int | None:
    return (
        Case.objects.filter(resident_id=case.resident_id, idempotency_key=case.idempotency_key)
        .values_list("pk", flat=True)
        .first()
    )


def _opening_guard(case: Case, still: tuple[str, list] | None) -> tuple[str, list] | None:
    """What the writing statement checks before it writes an opening (PostgreSQL): no earlier case of the resident
    with the same idempotency key, and `still`."""
    parts, params = [], []
    if case.idempotency_key:
        table = connection.ops.quote_name(Case._meta.db_table)
        parts.append(f"NOT EXISTS (SELECT FROM {table} WHERE resident_id = %s AND idempotency_key = %s)")
        params += [case.resident_id, case.idempotency_key]
    if still is not None:
        parts.append(still[0])
        params += still[1]
    return (" AND ".join(parts), params) if parts else None


@dataclass(frozen=True)
class FirstMove:
    """A move the system makes on a case as it is opened (a complaint is routed at once). It is checked against the
    kind's transition table like any other move, and written with the opening."""

    action: str
    changes: dict
    payload: dict


# The core's rows of an opening, every column named (tests/test_sql.py checks them against the models).
CASE_INSERT = sql.Insert(Case, CASE_COLUMNS)
EVENT_INSERT = sql.Insert(
    CaseEvent, ("id", "case_id", "seq", "type", "actor_id", "visibility", "payload", "created_at", "prev_hash", "hash")
)
OUTBOX_INSERT = sql.Insert(
    OutboxMessage,
    (
        "id", "case_id", "event_id", "audience", "audience_id", "event_type", "created_at", "status", "attempts",
        "next_attempt_at", "last_error",
    ),
)  # fmt: skip


def open_case(
    *,
    actor: Actor,
    fields: dict,
    event_payload: dict,
    then: FirstMove | None = None,
    details: Callable[[Case], Iterable] | None = None,
    still: tuple[str, list] | None = None,
) -> Case:
    """Create a case in its first state with its first timeline event (and `then`, a first move by the system), their
    outbox rows and the kind's own rows (`details(case)`: the complaint, its photos), all or nothing; or raise
    AlreadyOpened when the resident opened one with the same `idempotency_key` before.

    On PostgreSQL, outside a transaction (a complaint's submission), one statement and no transaction: it checks for
    that earlier case and `still`, writes every row (each model an explicit INSERT, sql.Insert) and NOTIFYs the outbox
    relay; the tracking number and the keys come from this process's blocks (_next_tracking_code, _next_keys).
    Elsewhere (SQLite, or inside a caller's transaction: a permit's submission, whose tracking code the caller
    allocated), the look-up, the number and one transaction of the ORM's. `still` (PostgreSQL only): an SQL
    condition on data the caller read from a cache (regions.selectors.still_current): if it no longer holds,
    nothing is written and Outdated is raised."""
    now = timezone.now()
    case = Case(**{"submitted_at": now, "created_at": now, "updated_at": now, **fields})
    entries = [
        {
            "type": "submitted",
            "actor_user": actor.user,
            "visibility": Visibility.PUBLIC,
            "payload": {"to": case.status, **event_payload},
        }
    ]
    audiences = [outbox.audiences(case, Visibility.PUBLIC, actor, new_case=True)]
    if then is not None:
        move = moves.move_of(case, then.action)
        payload = moves.apply_move(
            case, then.action, move, actor=None, payload=dict(then.payload), changes=then.changes, now=now
        )
        entries.append({"type": move.event, "actor_user": None, "visibility": move.visibility, "payload": payload})
        audiences.append(outbox.audiences(case, move.visibility, None, new_case=True))
    postgres = connection.vendor == "postgresql"
    if still is not None and not postgres:
        raise ValueError("checking what an opening relied on takes PostgreSQL")
    if postgres and not connection.in_atomic_block:
        case.tracking_code = case.tracking_code or _next_tracking_code(case.region, case.kind, now)
        _write_in_one_statement(case, entries, audiences, details, _opening_guard(case, still), now)
        return case
    earlier = _same_key(case) if case.idempotency_key else None
    if earlier is not None:
        raise AlreadyOpened(earlier)
    case.tracking_code = case.tracking_code or allocate_tracking_code(region=case.region, kind=case.kind, at=now)
    with transaction.atomic():
        if still is not None and not _holds(still):
            raise Outdated
        case.save(force_insert=True)
        events = _chained(case, entries, now)
        CaseEvent.objects.bulk_create(events)
        rows = OutboxMessage.objects.bulk_create(_outbox_rows(case, events, audiences))
        for model_rows in _by_model(details(case) if details is not None else ()):
            type(model_rows[0]).objects.bulk_create(model_rows)
        outbox.schedule(rows)
    return case


def _chained(case: Case, entries: list[dict], now: datetime) -> list[CaseEvent]:
    events, prev_hash = [], GENESIS
    for seq, entry in enumerate(entries, start=1):
        events.append(chained_event(case, seq=seq, prev_hash=prev_hash, at=now, **entry))
        prev_hash = events[-1].hash
    return events


def _outbox_rows(case: Case, events: list[CaseEvent], audiences: list[list]) -> list[OutboxMessage]:
    return [row for event, who in zip(events, audiences, strict=True) for row in outbox.rows_for(case, event, who)]


def _holds(condition: tuple[str, list]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {condition[0]}", condition[1])
        return bool(cursor.fetchone()[0])


def _write_in_one_statement(case, entries, audiences, details, guard, now) -> None:
    case.pk, event_ids = _next_keys(len(entries))
    events = _chained(case, entries, now)
    for event, pk in zip(events, event_ids, strict=True):
        event.pk = pk
    rows = _outbox_rows(case, events, audiences)
    guard_sql, guard_params = guard or ("true", [])
    parts = [CASE_INSERT.cte([case], now=now, source="guard", where="WHERE guard.ok")]
    parts.append(EVENT_INSERT.cte(events, now=now, source="c"))
    parts.append(OUTBOX_INSERT.cte(rows, now=now, source="c"))
    for model_rows in _by_model(details(case) if details is not None else ()):
        parts.append(sql.INSERTS[type(model_rows[0])].cte(model_rows, now=now, source="c"))
    # Our own SQL throughout; every value is a parameter. The case's INSERT is guarded, every other reads from it.
    names = ["c", *(f"w{n}" for n in range(1, len(parts)))]
    ctes = [
        f"{name} AS ({text}{' RETURNING id' if name == 'c' else ''})"
        for name, (text, _) in zip(names, parts, strict=True)
    ]
    notify_sql, notify_params = ("", [])
    if settings.OUTBOX_RELAY:  # the relay hears of the rows at COMMIT: the statement's own
        notify_sql, notify_params = outbox.notify_sql([str(row.pk) for row in rows])
    notified = f"(SELECT count(*) FROM ({notify_sql}) AS n WHERE EXISTS (SELECT FROM c))" if notify_sql else "0"  # noqa: S608
    statement = f"WITH guard AS (SELECT {guard_sql} AS ok), {', '.join(ctes)} SELECT EXISTS (SELECT FROM c), {notified}"  # noqa: S608
    params = [*guard_params, *(p for _, part_params in parts for p in part_params), *notify_params]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        written, _ = cursor.fetchone()
    if not written:
        earlier = _same_key(case) if case.idempotency_key else None
        if earlier is not None:
            raise AlreadyOpened(earlier)
        raise Outdated
    if not settings.OUTBOX_RELAY:
        outbox.schedule(rows)  # after the statement's own commit: handed on at once


def _by_model(rows: Iterable) -> list[list]:
    """Rows grouped by model, in the order each model first appears."""
    groups: dict[type, list] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    return list(groups.values())
