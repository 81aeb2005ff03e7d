"""Querysets compiled once. A look-up that runs over and over in the same shape (a case by its tracking code, the
session of a token, the roles of a user) spends more CPU building and compiling its queryset than the database spends
answering it. Here the SQL Django builds for a shape is kept, per thread (with the converters of that thread's
connection), and run again with each call's values; rows become model instances the way Django's own iterator makes
them, joined rows and annotations included, or tuples for `values_list()`. Nothing is cached but SQL text: every call
reads the database."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

MAX_SHAPES = 256  # per thread: the shapes apps ask for are few; an odd one evicts the least recently used


def _markers(index: int, value, ops, variant: int) -> list[tuple[object, Callable]]:
    """Stand-ins for the index-th value while a queryset is compiled, each with how the value appears in the
    parameters where that stand-in does: improbable values of the same type, so field lookups accept them. Two
    variants, so that a constant of the query that happens to equal a stand-in is not taken for a slot."""
    if isinstance(value, str):
        return [(f"\x00compiled-slot-{variant}-{index}\x00", _same)]
    if isinstance(value, uuid.UUID):  # PostgreSQL takes UUIDs, SQLite their hex
        marker = uuid.UUID(int=(0xC0DE << 112) + (variant << 32) + index)
        return [(marker, _same), (marker.hex, _hex)]
    if isinstance(value, datetime):  # aware; as the backend adapts them (SQLite: text)
        marker = datetime(1901 + variant, 2, 3, 4, 5, 6, 1000 + index, tzinfo=UTC)
        return [(marker, _same), (ops.adapt_datetimefield_value(marker), ops.adapt_datetimefield_value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [(-(2**62) - (variant << 32) - index, _same)]
    raise TypeError(f"compiled look-ups take str, int, UUID and datetime values, not {type(value).__name__}")


def _same(value):
    return value


def _hex(value):
    return value.hex


@dataclass(frozen=True)
class _Plan:
    db: str
    sql: str | None  # None: the query matches nothing
    params: tuple  # constants, and _Slots where the values go
    converters: dict[int, tuple[list, object]]
    model: type | None  # None: rows are tuples (values_list)
    model_columns: slice
    init_list: list[str]
    populators: list
    annotations: dict[str, int]


class _Slot:
    """Where a call's value goes in the parameters, and in which form."""

    __slots__ = ("form", "index")

    def __init__(self, index: int, form: Callable):
        self.index, self.form = index, form


_local = threading.local()


def first(key: Hashable, build: Callable[..., QuerySet], *values):
    """The first row of `build(*values)` (a model instance, or a tuple for `values_list()`), or None. `build` must
    give the same SQL for a given `key` whatever the values (they only fill its parameters), use each value as a
    whole lookup value (not changed on the way), prefetch nothing and read the default database."""
    found = rows(key, lambda *v: build(*v)[:1], *values)
    return found[0] if found else None


def rows(key: Hashable, build: Callable[..., QuerySet], *values) -> list:
    """Every row of `build(*values)`, as first() describes them."""
    plans: OrderedDict = getattr(_local, "plans", None) or OrderedDict()
    _local.plans = plans
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _compile(build, values)
        if len(plans) > MAX_SHAPES:
            plans.popitem(last=False)
    else:
        plans.move_to_end(key)
    if plan.sql is None:
        return []
    connection = connections[plan.db]
    params = [p.form(values[p.index]) if isinstance(p, _Slot) else p for p in plan.params]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        fetched = cursor.fetchall()
    return [_instance(plan, row, connection) for row in fetched]


def _instance(plan: _Plan, row: tuple, connection):
    if plan.converters:
        row = list(row)
        for position, (converters, expression) in plan.converters.items():
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        row = tuple(row)
    if plan.model is None:
        return row
    instance = plan.model.from_db(plan.db, plan.init_list, row[plan.model_columns])
    for populator in plan.populators:
        populator.populate(row, instance)
    for name, position in plan.annotations.items():
        setattr(instance, name, row[position])
    return instance


def _compile(build: Callable[..., QuerySet], values: tuple) -> _Plan:
    ops = connections[DEFAULT_DB_ALIAS].ops
    markers = [_markers(i, value, ops, 0) for i, value in enumerate(values)]
    queryset = build(*(forms[0][0] for forms in markers))
    if queryset.db != DEFAULT_DB_ALIAS:
        raise ValueError("compiled look-ups run on the default database")
    if queryset._prefetch_related_lookups:
        raise ValueError("compiled look-ups cannot prefetch")
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # the query can match nothing (e.g. `pk__in=[]`): no SQL to run
        return _Plan(queryset.db, None, (), {}, None, slice(0), [], [], {})
    other = build(*(_markers(i, value, ops, 1)[0][0] for i, value in enumerate(values)))
    other_sql, other_params = other.query.get_compiler(using=other.db).as_sql()
    if other_sql != sql or len(other_params) != len(params):
        raise ValueError("the query's SQL must not depend on the values")
    slots = {}
    for position, (param, other_param) in enumerate(zip(params, other_params, strict=True)):
        if param == other_param:
            continue  # a constant of the query
        slot = next(
            (
                _Slot(i, form)
                for i, forms in enumerate(markers)
                for marker, form in forms
                if type(param) is type(marker) and param == marker
            ),
            None,
        )
        if slot is None:
            raise ValueError("each value must be a parameter of the query, as given")
        slots[position] = slot
    if {slot.index for slot in slots.values()} != set(range(len(values))):
        raise ValueError("each value must be a parameter of the query, as given")
    params = tuple(slots.get(position, param) for position, param in enumerate(params))
    select = compiler.select
    converters = compiler.get_converters([column[0] for column in select])
    if queryset._iterable_class is ValuesListIterable:
        return _Plan(queryset.db, sql, params, converters, None, slice(0), [], [], {})
    if queryset._iterable_class is not ModelIterable:
        raise ValueError("compiled look-ups give model instances or values_list() tuples")
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Plan(
        db=queryset.db,
        sql=sql,
        params=params,
        converters=converters,
        model=klass_info["model"],
        model_columns=slice(start, end),
        init_list=[column[0].target.attname for column in select[start:end]],
        populators=get_related_populators(klass_info, select, queryset.db),
        annotations=dict(compiler.annotation_col_map),
    )
