"""Rows of several models written all or nothing, in as few round trips as the database allows.

On PostgreSQL an `InsertBatch` collects the rows (their primary keys already taken, see `reserve_ids`) and writes
them in one statement at the end of the `with` block: each model's INSERT, as Django compiles it, becomes a
data-modifying CTE of that statement, which PostgreSQL runs atomically without a transaction of its own (no BEGIN
and COMMIT round trips; foreign keys are checked at its end). Elsewhere (SQLite, the embedded default) the block is
a transaction and each `add()` is a `bulk_create` at once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery


def batched() -> bool:
    """Whether `InsertBatch` writes one statement here (PostgreSQL) and `reserve_ids` can take keys ahead."""
    return connection.vendor == "postgresql"


def reserve_ids_sql(model: type[Model], count: int) -> tuple[str, list]:
    """An expression taking `count` primary keys from `model`'s sequence, as an array: to put in a SELECT list."""
    meta = model._meta
    return "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))", [
        connection.ops.quote_name(meta.db_table),
        meta.pk.column,
        count,
    ]


class InsertBatch:
    def __init__(self):
        self._rows: dict[type[Model], list[Model]] = {}
        self._then: tuple[str, list] | None = None
        self._written: list[Callable[[], None]] = []

    def add(self, rows: Iterable[Model]) -> list[Model]:
        """Insert `rows` (parents before children): at the end of the block on PostgreSQL, where every row must have
        its primary key already; at once elsewhere, where the database assigns missing ones."""
        rows = list(rows)
        if not rows:
            return rows
        if not batched():
            return type(rows[0])._default_manager.bulk_create(rows)
        for row in rows:
            if row.pk is None:
                raise ValueError(f"{type(row).__name__} needs its primary key before a batched insert")
            self._rows.setdefault(type(row), []).append(row)
        return rows

    def then(self, sql: str, params: list) -> None:
        """A SELECT to run with the rows, atomically with them (one per batch): the batch's statement ends with it
        on PostgreSQL; elsewhere it runs at once."""
        if not batched():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        if self._then is not None:
            raise ValueError("a batch takes one final SELECT")
        self._then = (sql, params)

    def after_write(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the rows are written (on PostgreSQL, after the statement; elsewhere at once, inside
        the block's transaction: what it registers with `transaction.on_commit` waits for the COMMIT)."""
        if batched():
            self._written.append(callback)
        else:
            callback()

    def _statement(self) -> tuple[str, list]:
        parts = []
        for model, rows in self._rows.items():
            query = InsertQuery(model)
            query.insert_values(model._meta.concrete_fields, rows)
            ((sql, params),) = query.get_compiler(connection=connection).as_sql()
            parts.append((sql, list(params)))
        final_sql, final_params = self._then or ("SELECT 1", [])
        if not parts:
            return final_sql, final_params
        ctes = ", ".join(f"w{n} AS ({text})" for n, (text, _) in enumerate(parts))
        return f"WITH {ctes} {final_sql}", [value for _, values in parts for value in values] + final_params

    def _write(self) -> None:
        if not self._rows and self._then is None:
            return
        sql, params = self._statement()
        # Inside a caller's transaction a failure must not spoil it: a savepoint then (no round trips otherwise).
        savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(sql, params)
        for rows in self._rows.values():
            for row in rows:
                row._state.adding = False
                row._state.db = connection.alias
        for callback in self._written:
            callback()


@contextlib.contextmanager
def insert_batch() -> Iterator[InsertBatch]:
    batch = InsertBatch()
    if batched():
        yield batch
        batch._write()
    else:
        with transaction.atomic():
            yield batch
