"""Field helpers shared by the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import graphene
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from graphene import relay
from graphene.relay.connection import connection_adapter, page_info_adapter
from graphene_django import DjangoConnectionField
from graphql import GraphQLError, GraphQLObjectType
from graphql.language import FieldNode
from graphql_relay import from_global_id

from backend.keyset import InvalidCursor, Keyset

PK_MAX = 2**63 - 1  # the database's bigint


class KeysetConnectionField(DjangoConnectionField):
    """A list a client pages through: the resolver returns the rows (a QuerySet), the page is cut by `keyset`
    (backend.keyset): `first`/`after` forwards, `last`/`before` backwards, cursors that name a row. No `offset`:
    counting rows is what made pages repeat when one arrived between two of them."""

    def __init__(self, type_, *args, keyset: Keyset, scope: Callable | None = None, **kwargs):
        """`scope(root)`: whose list it is when the list belongs to its parent (a case's timeline: the case's id)."""
        super().__init__(type_, *args, **kwargs)
        del self.args["offset"]
        self.keyset, self.scope = keyset, scope

    def wrap_resolve(self, parent_resolver):
        resolver = graphene.Field.wrap_resolve(self, parent_resolver)
        connection, keyset, limit, scope = self.connection_type, self.keyset, self.max_limit, self.scope

        def resolve(root, info, **args):
            owner = scope(root) if scope is not None else None
            return keyset_page(connection, keyset, resolver(root, info, **args), args, limit, scope=owner)

        return resolve


def _cursor_values(keyset: Keyset, args: dict, name: str, scope):
    cursor = args.get(name)
    if cursor is None:
        return None
    try:
        return keyset.decode(cursor, scope)
    except InvalidCursor:
        raise GraphQLError(
            _("`%(argument)s` is not a cursor of this list.") % {"argument": name},
            extensions={"code": "BAD_USER_INPUT", "argument": name},
        ) from None


def keyset_page(connection, keyset: Keyset, rows, args: dict, max_limit: int, *, scope=None):
    """A page in the keyset's order: `first` (default: the cap) after `after`, or `last` before `before`; one row
    more than asked is read to know whether another page follows. `rows` is a QuerySet, or a function
    `read(after, before, size, backwards)` returning that many rows plus one, in the page's direction, each with the
    keys as attributes (the staff queue's own query). `scope`: whose list it is (in every cursor, checked)."""
    check_page_size(args, max_limit)
    first, last = args.get("first"), args.get("last")
    if first is not None and last is not None:
        raise GraphQLError(
            _("Give `first` or `last`, not both."), extensions={"code": "BAD_USER_INPUT", "argument": "last"}
        )
    after, before = _cursor_values(keyset, args, "after", scope), _cursor_values(keyset, args, "before", scope)
    backwards = last is not None or (before is not None and first is None)
    wanted = last if backwards else first
    size = max_limit if wanted is None else wanted
    if isinstance(rows, QuerySet):
        cursor = partial(keyset.annotated_cursor, scope=scope)
        found = _read_queryset(rows.annotate(**keyset.annotations()), keyset, after, before, size, backwards)
    else:
        cursor = partial(keyset.cursor, scope=scope)
        found = rows(after, before, size, backwards)
    more = len(found) > size
    page = found[:size][::-1] if backwards else found[:size]
    has_previous, has_next = (more, before is not None) if backwards else (after is not None, more)
    edges = [Edge(node=row, make_cursor=cursor) for row in page]
    page_info = page_info_adapter(
        startCursor=edges[0].cursor if edges else None,
        endCursor=edges[-1].cursor if edges else None,
        hasPreviousPage=has_previous,
        hasNextPage=has_next,
    )
    return connection_adapter(connection, edges, page_info)


def _read_queryset(rows: QuerySet, keyset: Keyset, after, before, size: int, backwards: bool) -> list:
    if after is not None:
        rows = rows.filter(keyset.after(after))
    if before is not None:
        rows = rows.filter(keyset.before(before))
    order = keyset.reversed_order() if backwards else keyset.order()
    return list(rows.order_by(*order)[: size + 1])


def check_page_size(args: dict, max_limit: int | None) -> None:
    """The page arguments a connection can honour; anything else is BAD_USER_INPUT naming the argument."""
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and not 0 <= value <= (max_limit or value):
            raise GraphQLError(
                _("`%(name)s` must be between 0 and %(limit)d.") % {"name": name, "limit": max_limit},
                extensions={"code": "BAD_USER_INPUT", "argument": name},
            )


class Edge:
    """An edge of a page: the values of the connection's Edge type without building a graphene object per row
    (graphene's edge types have no is_type_of, so any object with `node` and `cursor` serves). The cursor is made
    when it is read: a queue screen that pages by `pageInfo` never asks for the others."""

    __slots__ = ("_cursor", "_make", "node")

    def __init__(self, *, node, make_cursor):
        self.node, self._make, self._cursor = node, make_cursor, None

    @property
    def cursor(self) -> str:
        if self._cursor is None:
            self._cursor = self._make(self.node)
        return self._cursor


def _selection_sets(info, *path: str) -> list:
    """The selection sets the current field's selection reaches at `path` (field names; fragments are looked
    through); the field's own when `path` is empty."""
    found = [node.selection_set for node in info.field_nodes]
    for name in path:
        found = [
            selection.selection_set
            for selection in _fields(info, found)
            if selection.name.value == name and selection.selection_set is not None
        ]
        if not found:
            break
    return found


def _fields(info, selection_sets) -> list[FieldNode]:
    """The fields of these selection sets, those of their fragments included."""
    fields, pending = [], [s for s in selection_sets if s is not None]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif hasattr(selection, "type_condition") and hasattr(selection, "selection_set"):
                pending.append(selection.selection_set)
            else:  # a fragment spread
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return fields


def selects(info, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (field names; fragments are looked through)."""
    *parent, name = path
    return any(field.name.value == name for field in _fields(info, _selection_sets(info, *parent)))


def selected_fields(info, *path: str) -> set[str]:
    """The names of the fields selected at `path` of the current field's selection (fragments looked through)."""
    return {field.name.value for field in _fields(info, _selection_sets(info, *path))}


def parse_pk(value) -> int | None:
    """A primary key written as text (a plain id, or the key in a global id): digits only, within the database's
    bigint; None for anything else (so that it matches nothing, and never reaches the database as a number it
    cannot hold)."""
    text = str(value) if isinstance(value, int | str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(PK_MAX)):
        return None
    number = int(text)
    return number if 0 < number <= PK_MAX else None


def node_pk(global_id, type_name: str) -> int | None:
    """The primary key in a Relay global id of the given type; None for anything else (unreadable, another type)."""
    found, pk = _global_id_parts(global_id)
    return int(pk) if found == type_name else None


def node_field() -> graphene.Field:
    """`node(id:)`: any object you may see by its global id. A well-formed id of nothing you may see is null; one
    that is not a global id of this API (not base64, no type, a key that is not a number) is a BAD_USER_INPUT error,
    not a failure of the server."""

    def resolve(root, info, id):
        type_name, _pk = _global_id_parts(id)
        found = info.schema.get_type(type_name) if type_name else None
        if not isinstance(found, GraphQLObjectType) or not any(i.name == "Node" for i in found.interfaces):
            raise GraphQLError(
                _("This is not an id of this API."), extensions={"code": "BAD_USER_INPUT", "argument": "id"}
            )
        return relay.Node.get_node_from_global_id(info, id)

    return graphene.Field(
        relay.Node, id=graphene.ID(required=True, description="The ID of the object"), resolver=resolve
    )


def _global_id_parts(global_id) -> tuple[str | None, str | None]:
    try:
        type_name, pk = from_global_id(global_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None, None
    if not type_name or parse_pk(pk) is None:
        return None, None
    return type_name, pk
