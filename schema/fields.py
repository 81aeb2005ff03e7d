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
from graphql_relay import connection_from_array_slice, from_global_id, get_offset_with_default

PK_MAX = 2**63 - 1  # the database's bigint


class ConnectionField(DjangoConnectionField):
    """A Relay connection whose page size above the cap (100) is a clear user error, not an assertion."""

    @classmethod
    def connection_resolver(
        cls,
        resolver,
        connection,
        default_manager,
        queryset_resolver,
        max_limit,
        enforce_first_or_last,
        root,
        info,
        **args,
    ):
        check_page_size(args, max_limit)
        return super().connection_resolver(
            resolver,
            connection,
            default_manager,
            queryset_resolver,
            max_limit,
            enforce_first_or_last,
            root,
            info,
            **args,
        )

    @classmethod
    def resolve_connection(cls, connection, args, iterable, max_limit=None):
        """Forward pages (`first`/`after`) read one row more than asked instead of counting every matching row:
        over a queue of 100,000 cases the COUNT cost more than the page. Backward pages keep graphene-django's way."""
        backward = args.get("last") is not None or args.get("before") or args.get("offset")
        if backward or not isinstance(iterable, QuerySet):
            return super().resolve_connection(connection, args, iterable, max_limit)
        result = forward_page(connection, args, lambda start, stop: list(iterable[start:stop]), max_limit)
        result.iterable = iterable
        return result


def check_page_size(args: dict, max_limit: int | None) -> None:
    """The page arguments a connection can honour; anything else is BAD_USER_INPUT naming the argument."""
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and not 0 <= value <= (max_limit or value):
            raise GraphQLError(
                _("`%(name)s` must be between 0 and %(limit)d.") % {"name": name, "limit": max_limit},
                extensions={"code": "BAD_USER_INPUT", "argument": name},
            )
    offset = args.get("offset")
    if offset is not None and (offset < 0 or args.get("before") is not None):
        raise GraphQLError(
            _("`offset` must be 0 or more, and cannot be combined with `before`."),
            extensions={"code": "BAD_USER_INPUT", "argument": "offset"},
        )


def forward_page(connection, args: dict, read: Callable[[int, int], list], max_limit: int):
    """A forward page (`first`, default the cap, after the `after` cursor) of a Relay connection: `read(start, stop)`
    returns rows start to stop, and one row more than the page is read to know whether another page follows."""
    first = args.get("first") if args.get("first") is not None else max_limit
    args["first"] = first
    start = max(0, get_offset_with_default(args.get("after"), -1) + 1)  # a forged negative cursor starts at 0
    rows = read(start, start + first + 1)
    result = connection_from_array_slice(
        rows,
        args,
        slice_start=start,
        array_length=start + len(rows),
        array_slice_length=len(rows),
        connection_type=partial(connection_adapter, connection),
        edge_type=Edge,
        page_info_type=page_info_adapter,
    )
    result.length = start + len(rows)
    return result


class Edge:
    """An edge of a page: the values of the connection's Edge type without building a graphene object per row
    (graphene's edge types have no is_type_of, so any object with `node` and `cursor` serves)."""

    __slots__ = ("cursor", "node")

    def __init__(self, *, node, cursor):
        self.node, self.cursor = node, cursor


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
    if not type_name or not pk.isascii() or not pk.isdigit() or not 0 < int(pk) <= PK_MAX:
        return None, None
    return type_name, pk
