"""Keyset pages: a list in a fixed order of named keys that ends in a unique one, and cursors that carry a row's values
of them. A page is "the rows after (or before) this row", so rows added or removed meanwhile make no page repeat or
skip one (offsets did: a complaint filed between two pages pushed the first page's last item onto the second).

Every key sorts its NULLs last, in both directions and on every database (PostgreSQL puts them first in descending
order, SQLite first in ascending), and the conditions below agree with that order. A cursor names its list and, for
a list that belongs to something (a case's timeline), that owner (its `scope`), so a cursor of another list or
owner, or any text that is not a cursor, is refused (InvalidCursor) rather than taken as "start"."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import and_, or_

from django.db.models import F, Q


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Key:
    name: str  # a field or annotation of the rows (and an attribute of what a page holds)
    descending: bool = False
    nullable: bool = False
    kind: type = int  # int, str or datetime: how the cursor carries it


NOTHING = Q(pk__in=[])


class Keyset:
    def __init__(self, name: str, *keys: Key):
        self.name, self.keys = name, keys

    # --- order ---------------------------------------------------------------------------------------------------

    def order(self) -> list:
        return [self._order(key, key.descending) for key in self.keys]

    def reversed_order(self) -> list:
        """The order read backwards (for `last`/`before`): NULLs come first then, as they come last forwards."""
        return [self._order(key, not key.descending, nulls_first=True) for key in self.keys]

    @staticmethod
    def _order(key: Key, descending: bool, *, nulls_first: bool = False):
        expression = F(key.name)
        nulls = {"nulls_first": True} if nulls_first else {"nulls_last": True}
        return expression.desc(**nulls) if descending else expression.asc(**nulls)

    # --- cursors -------------------------------------------------------------------------------------------------

    def cursor(self, row, scope=None) -> str:
        """The cursor of a row (any object with the keys as attributes)."""
        return self.cursor_of([getattr(row, key.name) for key in self.keys], scope)

    def cursor_of(self, values: list, scope=None) -> str:
        """The cursor of the row with these key values, in the list of `scope` (a number or text, or None)."""
        raw = json.dumps([self.name, scope, *map(self._dump, values)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def annotations(self) -> dict:
        """The keys as annotations of their own (`cursor_key_0`, …): a page's rows carry their cursor's values even
        when the query loads only the columns its selection asks for."""
        return {f"cursor_key_{index}": F(key.name) for index, key in enumerate(self.keys)}

    def annotated_cursor(self, row, scope=None) -> str:
        """The cursor of a row read with `annotations()`."""
        return self.cursor_of([getattr(row, f"cursor_key_{index}") for index in range(len(self.keys))], scope)

    def decode(self, cursor: str, scope=None) -> list:
        """The key values a cursor of this list (of `scope`) carries; InvalidCursor for anything else."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            name, owner, *values = json.loads(raw)
        except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidCursor(cursor) from None
        if name != self.name or owner != scope or len(values) != len(self.keys):
            raise InvalidCursor(cursor)
        return [self._load(value, key) for value, key in zip(values, self.keys, strict=True)]

    @staticmethod
    def _dump(value):
        return value.isoformat() if isinstance(value, datetime) else value

    @staticmethod
    def _load(value, key: Key):
        if value is None:
            if not key.nullable:
                raise InvalidCursor(key.name)
            return None
        try:
            if key.kind is datetime:
                loaded = datetime.fromisoformat(value)
                if loaded.tzinfo is None:
                    raise InvalidCursor(key.name)
                return loaded
            if key.kind is int and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
                return value
            if key.kind is str and isinstance(value, str) and "\x00" not in value:
                return value
        except (TypeError, ValueError):
            pass
        raise InvalidCursor(key.name)

    # --- conditions ----------------------------------------------------------------------------------------------

    def after(self, values: list) -> Q:
        """The rows that come after the row with these key values, in this order."""
        return self._beyond(values, forwards=True)

    def before(self, values: list) -> Q:
        """The rows that come before it."""
        return self._beyond(values, forwards=False)

    def _beyond(self, values: list, *, forwards: bool) -> Q:
        alternatives = []
        for index, (key, value) in enumerate(zip(self.keys, values, strict=True)):
            ties = [self._equal(k, v) for k, v in zip(self.keys[:index], values[:index], strict=True)]
            step = self._after(key, value) if forwards else self._before(key, value)
            alternatives.append(reduce(and_, [*ties, step]))
        return reduce(or_, alternatives)

    @staticmethod
    def _equal(key: Key, value) -> Q:
        return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})

    @staticmethod
    def _after(key: Key, value) -> Q:
        if value is None:  # NULLs come last: nothing after them in this key
            return NOTHING
        beyond = Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})
        return beyond | Q(**{f"{key.name}__isnull": True}) if key.nullable else beyond

    @staticmethod
    def _before(key: Key, value) -> Q:
        if value is None:  # every non-NULL value comes before the NULLs
            return Q(**{f"{key.name}__isnull": False})
        return Q(**{f"{key.name}__{'gt' if key.descending else 'lt'}": value})

    # --- the same in SQL text, for a statement written by hand (the staff queue's page) ----------------------------

    def order_sql(self, expressions: dict[str, str], *, backwards: bool = False) -> str:
        """`ORDER BY` terms: each key's expression (from `expressions`, by key name), NULLs last (first backwards)."""
        terms = []
        for key in self.keys:
            descending = key.descending != backwards
            nulls = "FIRST" if backwards else "LAST"
            terms.append(f"{expressions[key.name]} {'DESC' if descending else 'ASC'} NULLS {nulls}")
        return ", ".join(terms)

    def condition_sql(self, values: list, expressions: dict[str, str], *, forwards: bool) -> tuple[str, list]:
        """after() (`forwards`) or before() as SQL text and its parameters."""
        alternatives, params = [], []
        for index, (key, value) in enumerate(zip(self.keys, values, strict=True)):
            column = expressions[key.name]
            if value is None and forwards:
                continue  # nothing comes after a NULL in this key
            parts, part_params = [], []
            for tied_key, tied_value in zip(self.keys[:index], values[:index], strict=True):
                if tied_value is None:
                    parts.append(f"{expressions[tied_key.name]} IS NULL")
                else:
                    parts.append(f"{expressions[tied_key.name]} = %s")
                    part_params.append(tied_value)
            if value is None:  # backwards: every non-NULL value comes before the NULLs
                parts.append(f"{column} IS NOT NULL")
            else:
                step = f"{column} {'>' if forwards != key.descending else '<'} %s"
                parts.append(f"({step} OR {column} IS NULL)" if forwards and key.nullable else step)
                part_params.append(value)
            alternatives.append(" AND ".join(parts))
            params += part_params
        if not alternatives:
            return "1 = 0", []
        return "(" + " OR ".join(f"({alternative})" for alternative in alternatives) + ")", params
