"""Named SQL where building and compiling a queryset costs more than the database takes to answer: the look-ups
nearly every request makes (the session behind a token with its user, a user's roles, a region by slug or code, a
case by tracking code; a session look-up takes ~110 µs this way, ~660 µs through the ORM), and the opening of a case.

Each statement is plain text that names its columns, model by model (`Part`); tests/test_sql.py checks every list
against the models' fields, so a field added by a migration fails a test rather than going missing here. Rows become
instances through the public `Model.from_db`, after the few conversions a raw row needs (`_READERS`: what the
database driver hands back for a datetime, a UUID or a boolean differs between PostgreSQL and SQLite). Every scope —
a user, a region — is a parameter of the statement; nothing is cached but the text.

`Insert` is the other direction (PostgreSQL): a model's rows as a data-modifying CTE of one statement (the opening
of a case writes five tables at once, backend.cases.opening), every column named, the rows one JSON parameter read
by jsonb_to_recordset with each column's type (`Field.db_type`), values as the instance holds them (choices as their
values, datetimes in ISO 8601, a JSONField's value as JSON)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils.dateparse import parse_datetime


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
        if list(self.columns) != [name for name in fields if name in self.columns]:  # Model.from_db reads them so
            raise ValueError(f"{self.model.__name__}: list the columns in the model's order")
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
        return self._run(self.sql, params)

    def rows_in(self, keys: Sequence) -> list[tuple]:
        """Rows of a statement whose `IN ({keys})` takes a list: one placeholder per key."""
        return self._run(self.sql.format(keys=", ".join(["%s"] * len(keys))), list(keys))

    def _run(self, text: str, params) -> list[tuple]:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(text, params)
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


def _json_value(value):
    """A value of a row as JSON carries it to its column (jsonb_to_recordset casts it to the column's type)."""
    if isinstance(value, Enum):  # TextChoices, StrEnum statuses: their value
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"no JSON for a {type(value).__name__}")


@dataclass(frozen=True)
class Insert:
    """A model's rows as `INSERT INTO table (columns) SELECT … FROM jsonb_to_recordset(…)`, every column named (all
    the model's, in its order: tests/test_sql.py checks them) with its type. The rows' primary keys are set before."""

    model: type[models.Model]
    columns: tuple[str, ...]

    def __post_init__(self):
        INSERTS[self.model] = self

    def cte(self, rows: Sequence[models.Model], *, now, source: str, where: str = "") -> tuple[str, list]:
        """The INSERT of `rows` (auto_now and auto_now_add fields left empty get `now`) selecting from `source` (a CTE
        the insert waits on, e.g. the guarded case row), with `where` as its condition. The rows travel as one JSON
        parameter, whatever their number: psycopg adapts one value instead of one per field and row."""
        table, record, stamped = self._shape()
        objects = []
        for row in rows:
            values = {}
            for column in self.columns:
                value = getattr(row, column)
                values[column] = now if value is None and column in stamped else value
            objects.append(values)
        names = ", ".join(self.columns)
        selected = ", ".join(f"v.{column}" for column in self.columns)
        payload = json.dumps(objects, default=_json_value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return (
            f"INSERT INTO {table} ({names}) SELECT {selected} FROM {source},"  # noqa: S608 - our names
            f" jsonb_to_recordset(%s::jsonb) AS v({record}) {where}",
            [payload],
        )

    @functools.cache  # noqa: B019 - a handful of Inserts, each declared once at import
    def _shape(self) -> tuple[str, str, frozenset[str]]:
        """The table, the record's `column type, …` and the columns stamped with the time (worked out once)."""
        connection = connections[DEFAULT_DB_ALIAS]
        fields = [self.model._meta.get_field(column) for column in self.columns]
        record = ", ".join(f"{field.column} {field.db_type(connection)}" for field in fields)
        stamped = frozenset(
            field.attname
            for field in fields
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        )
        return connection.ops.quote_name(self.model._meta.db_table), record, stamped
