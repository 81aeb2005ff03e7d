"""Rows of several models written all or nothing, in as few round trips as the database allows.

On PostgreSQL an `InsertBatch` collects the rows (their primary keys already taken, see `reserve_ids`) and writes
them in one statement at the end of the `with` block: each model's INSERT, as Django compiles it, becomes a
data-modifying CTE of that statement, which PostgreSQL runs atomically without a transaction of its own (no BEGIN
and COMMIT round trips; foreign keys are checked at its end). Elsewhere (SQLite, the embedded default) the block is
a transaction and each `add()` is a `bulk_create` at once."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Model


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
        parts = [(_insert_sql(model, len(rows)), _insert_values(model, rows)) for model, rows in self._rows.items()]
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


@functools.lru_cache(maxsize=64)
def _insert_sql(model: type[Model], count: int) -> str:
    """`INSERT INTO … VALUES (…), (…)` of `count` rows of every concrete field: the same text for every batch of that
    shape, so psycopg converts it once."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    if any(hasattr(field, "get_placeholder") for field in fields):  # geometry and the like: not handled here
        raise TypeError(f"{model.__name__} has fields with SQL placeholders of their own; use bulk_create")
    row = f"({', '.join(['%s'] * len(fields))})"
    columns = ", ".join(quote(field.column) for field in fields)
    # Quoted identifiers and placeholders only: every value is a parameter.
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608


def _insert_values(model: type[Model], rows: list[Model]) -> list:
    """The rows' values as Django's insert compiler prepares them (`pre_save` with add=True, then
    `get_db_prep_save`), row by row."""
    values = []
    for row in rows:
        for field in model._meta.concrete_fields:
            value = field.pre_save(row, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{model.__name__}.{field.name}: a batched insert takes values, not expressions")
            values.append(field.get_db_prep_save(value, connection=connection))
    return values


@contextlib.contextmanager
def insert_batch() -> Iterator[InsertBatch]:
    batch = InsertBatch()
    if batched():
        yield batch
        batch._write()
    else:
        with transaction.atomic():
            yield batch
