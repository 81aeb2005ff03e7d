"""Rows of several models written all or nothing, in as few round trips as the database allows.

On PostgreSQL an `InsertBatch` collects the rows (their primary keys already taken, see `take_keys`) and writes
them in one statement at the end of the `with` block: each model's INSERT, its rows passed as one JSON parameter,
becomes a data-modifying CTE of that statement, which PostgreSQL runs atomically without a transaction of its own
(no BEGIN and COMMIT round trips; foreign keys are checked at its end). Elsewhere (SQLite, the embedded default)
the block is a transaction and each `add()` is a `bulk_create` at once."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import functools
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Field, Model
from psycopg.types.json import Jsonb


def batched() -> bool:
    """Whether `InsertBatch` writes one statement here (PostgreSQL) and `take_keys` can take keys ahead."""
    return connection.vendor == "postgresql"


def reserve_ids_sql(model: type[Model], count: int) -> tuple[str, list]:
    """An expression taking `count` primary keys from `model`'s sequence, as an array: to put in a SELECT list."""
    meta = model._meta
    return "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))", [
        connection.ops.quote_name(meta.db_table),
        meta.pk.column,
        count,
    ]


KEY_BLOCK = 64  # keys a process takes from a sequence at a time


class _KeyPool:
    """Primary keys this process took from the sequences and has not used yet, per model."""

    def __init__(self):
        self.lock = threading.Lock()
        self.free: dict[type[Model], list[int]] = {}


_keys = _KeyPool()
# A child process must not hand out the keys its parent took: it starts with none.
os.register_at_fork(after_in_child=lambda: _keys.free.clear())


def take_keys(counts: dict[type[Model], int]) -> dict[type[Model], list[int]]:
    """Primary keys for rows about to be batched (PostgreSQL): `counts[model]` of each model's sequence, taken ahead
    KEY_BLOCK at a time by this process, so that most calls need no statement (one refills every short pool).
    Sequences never go back, in a transaction rolled back too, so keys are never handed out twice; they are not in
    the order rows are written, and a process that stops leaves its unused ones as gaps."""
    with _keys.lock:
        short = {model: n for model, n in counts.items() if len(_keys.free.get(model, ())) < n}
        if short:
            parts = [reserve_ids_sql(model, max(KEY_BLOCK, n)) for model, n in short.items()]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {', '.join(sql for sql, _ in parts)}", [p for _, ps in parts for p in ps])
                for model, keys in zip(short, cursor.fetchone(), strict=True):
                    _keys.free.setdefault(model, []).extend(keys)
        taken = {}
        for model, n in counts.items():
            free = _keys.free[model]
            taken[model], _keys.free[model] = free[:n], free[n:]
        return taken


class InsertBatch:
    def __init__(self, guard: tuple[str, list] | None = None):
        self._batched = batched()
        if guard is not None and not self._batched:
            raise ValueError("a guarded batch takes PostgreSQL")
        self._guard = guard
        self._rows: dict[type[Model], list[Model]] = {}
        self._then: tuple[str, list] | None = None
        self._written: list[Callable[[], None]] = []
        self.refused = False  # the guard did not hold: nothing was written

    def add(self, rows: Iterable[Model]) -> list[Model]:
        """Insert `rows` (parents before children): at the end of the block on PostgreSQL, where every row must have
        its primary key already; at once elsewhere, where the database assigns missing ones."""
        rows = list(rows)
        if not rows:
            return rows
        if not self._batched:
            return type(rows[0])._default_manager.bulk_create(rows)
        for row in rows:
            if row.pk is None:
                raise ValueError(f"{type(row).__name__} needs its primary key before a batched insert")
            self._rows.setdefault(type(row), []).append(row)
        return rows

    def then(self, sql: str, params: list) -> None:
        """A SELECT to run with the rows, atomically with them (one per batch): the batch's statement ends with it
        on PostgreSQL (unless the guard fails); elsewhere it runs at once."""
        if not self._batched:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        if self._then is not None:
            raise ValueError("a batch takes one final SELECT")
        self._then = (sql, params)

    def after_write(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the rows are written (on PostgreSQL, after the statement; elsewhere at once, inside
        the block's transaction: what it registers with `transaction.on_commit` waits for the COMMIT)."""
        if self._batched:
            self._written.append(callback)
        else:
            callback()

    def _statement(self) -> tuple[str, list]:
        """`WITH guard AS (…), w0 AS (INSERT …), … SELECT <the guard held>, <the final SELECT's row count>`."""
        guard_sql, guard_params = self._guard or ("true", [])
        ctes = [f"guard AS (SELECT {guard_sql} AS ok)"]
        ctes += [f"w{n} AS ({_insert_sql(model)})" for n, model in enumerate(self._rows)]
        values = [_insert_values(model, rows) for model, rows in self._rows.items()]
        final_sql, final_params = self._then or ("SELECT", [])
        # Our own SQL fragments; every value is a parameter.
        sql = (
            f"WITH {', '.join(ctes)} SELECT (SELECT ok FROM guard), "  # noqa: S608
            f"(SELECT count(*) FROM ({final_sql}) AS final WHERE (SELECT ok FROM guard))"
        )
        return sql, guard_params + values + final_params

    def _write(self) -> None:
        if not self._rows and self._then is None and self._guard is None:
            return
        sql, params = self._statement()
        # Inside a caller's transaction a failure must not spoil it: a savepoint then (no round trips otherwise).
        savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(sql, params)
            ok, _ = cursor.fetchone()
        if not ok:
            self.refused = True
            return
        for rows in self._rows.values():
            for row in rows:
                row._state.adding = False
                row._state.db = connection.alias
        for callback in self._written:
            callback()


@functools.lru_cache(maxsize=64)
def _insert_sql(model: type[Model]) -> str:
    """`INSERT INTO … SELECT … FROM json_populate_recordset(…)` of every concrete field, the rows being one JSON
    parameter: the same short text for every batch of the model, whatever its number of rows, so psycopg converts
    it once and binds one value instead of one per field and row. PostgreSQL casts each JSON value with the column
    type's own input function (length limits and all); a missing key is NULL."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    if any(hasattr(field, "get_placeholder") for field in fields):  # geometry and the like: not handled here
        raise TypeError(f"{model.__name__} has fields with SQL placeholders of their own; use bulk_create")
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    # Quoted identifiers and one placeholder: every value is in the parameter. Nothing is inserted unless the
    # batch's guard (a CTE of the statement, see InsertBatch._statement) holds.
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
        f"FROM json_populate_recordset(NULL::{table}, %s::json) WHERE (SELECT ok FROM guard)"
    )


def _insert_values(model: type[Model], rows: list[Model]) -> str:
    """The rows as a JSON array of objects keyed by column, NULLs left out. Each value is what Django's insert
    compiler would send (`pre_save` with add=True, then `get_db_prep_save`), written as the column type reads it
    back (_json_value). A value that the field's preparation would hand through unchanged (_unchanged), None
    included, skips it."""
    columns = _columns(model)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` is a per-thread proxy of it
    objects = []
    for row in rows:
        values = {}
        state = row.__dict__
        for field, attname, column, unchanged in columns:
            if unchanged is None:
                value = _prepared(model, field, row, db)
            else:
                value = state.get(attname)
                if value is None:
                    continue
                if not (type(value) is unchanged or (unchanged is str and isinstance(value, str))):  # str: choices
                    value = _prepared(model, field, row, db)
                elif unchanged is datetime.datetime and value.tzinfo is None:
                    value = _prepared(model, field, row, db)  # Django makes a naive datetime aware (and warns)
            if value is not None:
                values[column] = value
        objects.append(values)
    return json.dumps(objects, default=_json_value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


def _unchanged(field: Field) -> type | None:
    """The type of value that `field`'s `pre_save` and `get_db_prep_save` return unchanged on PostgreSQL (None too),
    or None (JSON, `auto_now` datetimes, anything unknown: the field prepares every value). Exact field classes: a
    subclass may prepare values its own way."""
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        return _unchanged(field.target_field)
    if kind in _INTEGER_FIELDS:
        return int
    if kind is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        return datetime.datetime
    return {
        models.FloatField: float,
        models.BooleanField: bool,
        models.CharField: str,
        models.TextField: str,
        models.UUIDField: uuid.UUID,
    }.get(kind)


@functools.lru_cache(maxsize=64)
def _columns(model: type[Model]) -> tuple[tuple[Field, str, str, type | None], ...]:
    return tuple((field, field.attname, field.column, _unchanged(field)) for field in model._meta.concrete_fields)


def _prepared(model: type[Model], field: Field, row: Model, db):
    value = field.pre_save(row, True)
    if hasattr(value, "resolve_expression"):
        raise TypeError(f"{model.__name__}.{field.name}: a batched insert takes values, not expressions")
    return field.get_db_prep_save(value, connection=db)


def _json_value(value):
    """A prepared value that JSON has no type for, in the text form the column type reads."""
    if isinstance(value, Jsonb):  # a JSONField's value: nested as it is
        return value.obj if value.dumps is None else json.loads(value.dumps(value.obj))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"a batched insert cannot write a {type(value).__name__} value")


@contextlib.contextmanager
def insert_batch(guard: tuple[str, list] | None = None) -> Iterator[InsertBatch]:
    """Rows of several models written together at the end of the block. `guard` (PostgreSQL only): an SQL condition
    (our own text, values as parameters) checked by the writing statement itself; when it does not hold, nothing is
    written and the batch is `refused`."""
    batch = InsertBatch(guard)
    if batched():
        yield batch
        batch._write()
    else:
        with transaction.atomic():
            yield batch
