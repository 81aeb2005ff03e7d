"""Querysets compiled once. A look-up that runs over and over in the same shape (a case by its tracking code) spends
more CPU building and compiling its queryset than PostgreSQL spends answering it. Here the SQL Django builds for a
shape is kept, per thread (with the converters of that thread's connection), and run again with each call's values;
rows become model instances the way Django's own iterator makes them, joined rows and annotations included.
Nothing is cached but SQL text: every call reads the database."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

MAX_SHAPES = 64  # per thread: the shapes apps ask for are few; an odd one evicts the least recently used


class Slot(str):
    """Stands for the n-th value while a queryset is compiled: a string, so field lookups hand it on unchanged."""

    def __new__(cls, index: int):
        slot = super().__new__(cls, f"\x00slot{index}\x00")
        slot.index = index
        return slot


@dataclass(frozen=True)
class _Plan:
    db: str
    sql: str
    params: tuple  # constants, and Slots where the values go
    model: type
    model_columns: slice
    init_list: list[str]
    populators: list
    annotations: dict[str, int]
    converters: dict[int, tuple[list, object]]


_local = threading.local()


def first(key: Hashable, build: Callable[..., QuerySet], *values: str):
    """The first row of `build(*values)` as a model instance, or None. `build` must give the same SQL for a given
    `key` whatever the values (they only fill its parameters), use each value as a whole lookup value (not changed
    on the way), and prefetch nothing."""
    plans: OrderedDict = getattr(_local, "plans", None) or OrderedDict()
    _local.plans = plans
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _compile(build(*(Slot(i) for i in range(len(values))))[:1], len(values))
        if len(plans) > MAX_SHAPES:
            plans.popitem(last=False)
    else:
        plans.move_to_end(key)
    connection = connections[plan.db]
    params = [values[p.index] if isinstance(p, Slot) else p for p in plan.params]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if plan.converters:
        row = list(row)
        for position, (converters, expression) in plan.converters.items():
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
    instance = plan.model.from_db(plan.db, plan.init_list, row[plan.model_columns])
    for populator in plan.populators:
        populator.populate(row, instance)
    for name, position in plan.annotations.items():
        setattr(instance, name, row[position])
    return instance


def _compile(queryset: QuerySet, value_count: int) -> _Plan:
    if queryset._prefetch_related_lookups:
        raise ValueError("compiled look-ups cannot prefetch")
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    slots = sorted(p.index for p in params if isinstance(p, Slot))
    if slots != list(range(value_count)):
        raise ValueError(f"each value must be a parameter of the query once, found {slots} of {value_count}")
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Plan(
        db=queryset.db,
        sql=sql,
        params=tuple(params),
        model=klass_info["model"],
        model_columns=slice(start, end),
        init_list=[column[0].target.attname for column in compiler.select[start:end]],
        populators=get_related_populators(klass_info, compiler.select, queryset.db),
        annotations=dict(compiler.annotation_col_map),
        converters=compiler.get_converters([column[0] for column in compiler.select]),
    )
