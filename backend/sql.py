"""Named SQL where building and compiling a queryset costs more than the database takes to answer: the look-ups
nearly every request makes (the session behind a token with its user, a user's roles, a region by slug or code, a
case by tracking code; a session look-up takes ~110 µs this way, ~660 µs through the ORM), and the opening of a case.

Each statement is plain text that names its columns, model by model (`Part`); tests/test_sql.py checks every list
against the models' fields, so a field added by a migration fails a test rather than going missing here. Rows become
instances through the public `Model.from_db`, after the few conversions a raw row needs (`_READERS`: what the
database driver hands back for a datetime, a UUID or a boolean differs between PostgreSQL and SQLite). Every scope —
a user, a region — is a parameter of the statement; nothing is cached but the text.

`Insert` is the other direction (PostgreSQL): a model's rows as a data-modifying CTE of one statement (the opening
of a case writes five tables at once, backend.cases.opening), every column named, each value cast to its column's
type (`Field.db_type`) and taken from the instance as it is, Django's choices as their values and JSON as JSON."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import Enum

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils.dateparse import parse_datetime
from psycopg.types.json import Jsonb


def read_datetime(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value  # SQLite: naive UTC


def _uuid(value):
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)  # SQLite: hex text


def read_bool(value):
    return value if value is None else bool(value)  # SQLite: 0 or 1


def _same(value):
    return value


# How a raw value of a field becomes what the ORM would hand out. Fields of other kinds are refused when a Part is
# declared (add a reader first).
_READERS: dict[type[models.Field], Callable] = {
    models.DateTimeField: read_datetime,
    models.UUIDField: _uuid,
    models.BooleanField: read_bool,
    models.BigAutoField: _same,
    models.AutoField: _same,
    models.ForeignKey: _same,
    models.OneToOneField: _same,
    models.IntegerField: _same,
    models.PositiveIntegerField: _same,
    models.PositiveSmallIntegerField: _same,
    models.FloatField: _same,
    models.CharField: _same,
    models.SlugField: _same,
    models.EmailField: _same,
    models.TextField: _same,
    models.TimeField: _same,
    models.GenericIPAddressField: _same,
}


@dataclass(frozen=True)
class Part:
    """A model's columns in a statement's rows, in SELECT order (attribute names: `user_id`, not `user`): all of its
    fields, or, `partial`, some (the others load when read)."""

    model: type[models.Model]
    columns: tuple[str, ...]
    partial: bool = False
    readers: tuple[Callable, ...] = field(init=False)

    def __post_init__(self):
        fields = {f.attname: f for f in self.model._meta.concrete_fields}
        readers = []
        for column in self.columns:
            kind = type(fields[column])
            if kind not in _READERS:
                raise TypeError(f"{self.model.__name__}.{column}: no reader for a {kind.__name__}")
            readers.append(_READERS[kind])
        object.__setattr__(self, "readers", tuple(readers))

    def instance(self, values: tuple) -> models.Model | None:
        if values[0] is None:  # a LEFT JOIN that found nothing
            return None
        converted = [read(value) for read, value in zip(self.readers, values, strict=True)]
        return self.model.from_db(DEFAULT_DB_ALIAS, list(self.columns), converted)


STATEMENTS: list[Statement] = []


@dataclass(frozen=True)
class Statement:
    """Rows of `sql`: an instance per Part (in order), then any further values as they are."""

    name: str
    sql: str
    parts: tuple[Part, ...] = ()

    def __post_init__(self):
        STATEMENTS.append(self)  # for tests/test_sql.py

    def rows(self, *params) -> list[tuple]:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        return [self._read(row) for row in fetched]

    def first(self, *params) -> tuple | None:
        found = self.rows(*params)
        return found[0] if found else None

    def _read(self, row: tuple) -> tuple:
        if not self.parts:
            return row
        read, start = [], 0
        for part in self.parts:
            end = start + len(part.columns)
            read.append(part.instance(row[start:end]))
            start = end
        return (*read, *row[start:])


def columns(alias: str, names: tuple[str, ...]) -> str:
    """`alias.a, alias.b, …`: a Part's columns in a SELECT list."""
    return ", ".join(f"{alias}.{name}" for name in names)


def param(model: type[models.Model], name: str, value):
    """A value as the column `model.name` takes it (a UUID is hex text on SQLite): the field's own documented
    preparation."""
    return model._meta.get_field(name).get_db_prep_value(value, connections[DEFAULT_DB_ALIAS])


# --- writing -------------------------------------------------------------------------------------------------------

INSERTS: dict[type[models.Model], Insert] = {}


def _written(value):
    if isinstance(value, Enum):  # TextChoices, StrEnum statuses: their value
        return value.value
    if isinstance(value, dict | list):  # a JSONField's
        return Jsonb(value)
    return value


@dataclass(frozen=True)
class Insert:
    """A model's rows as `INSERT INTO table (columns) SELECT … FROM (VALUES …)`, every column named (all the model's,
    in its order: tests/test_sql.py checks them) and cast to its type. The rows' primary keys are set before."""

    model: type[models.Model]
    columns: tuple[str, ...]

    def __post_init__(self):
        INSERTS[self.model] = self

    def cte(self, rows: Sequence[models.Model], *, now, source: str, where: str = "") -> tuple[str, list]:
        """The INSERT of `rows` (auto_now and auto_now_add fields left empty get `now`) selecting from `source` (a CTE
        the insert waits on, e.g. the guarded case row), with `where` as its condition."""
        table, row_sql, stamped = self._shape()
        params = []
        for row in rows:
            for column in self.columns:
                value = getattr(row, column)
                params.append(now if value is None and column in stamped else _written(value))
        names = ", ".join(self.columns)
        values = ", ".join([row_sql] * len(rows))
        return (
            f"INSERT INTO {table} ({names}) SELECT v.* FROM {source}, (VALUES {values}) AS v({names}) {where}",  # noqa: S608
            params,
        )

    @functools.cache  # noqa: B019 - a handful of Inserts, each declared once at import
    def _shape(self) -> tuple[str, str, frozenset[str]]:
        """The table, one row's `(%s::type, …)` and the columns stamped with the time (worked out once)."""
        connection = connections[DEFAULT_DB_ALIAS]
        fields = [self.model._meta.get_field(column) for column in self.columns]
        row_sql = f"({', '.join(f'%s::{field.db_type(connection)}' for field in fields)})"
        stamped = frozenset(
            field.attname
            for field in fields
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        )
        return connection.ops.quote_name(self.model._meta.db_table), row_sql, stamped
