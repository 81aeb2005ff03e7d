"""Field helpers shared by the domain modules."""

from __future__ import annotations

from graphene_django import DjangoConnectionField
from graphql import GraphQLError
from graphql.language import FieldNode


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
        for name in ("first", "last"):
            value = args.get(name)
            if value is not None and not 0 <= value <= (max_limit or value):
                raise GraphQLError(
                    f"`{name}` must be between 0 and {max_limit}.",
                    extensions={"code": "BAD_USER_INPUT", "argument": name},
                )
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


def selects(info, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (field names; fragments are looked through)."""
    selections = [node.selection_set for node in info.field_nodes]
    for name in path:
        found = []
        while selections:
            selection_set = selections.pop()
            if selection_set is None:
                continue
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if selection.name.value == name:
                        found.append(selection.selection_set)
                elif hasattr(selection, "type_condition") and hasattr(selection, "selection_set"):
                    selections.append(selection.selection_set)
                else:  # a fragment spread
                    fragment = info.fragments.get(selection.name.value)
                    if fragment is not None:
                        selections.append(fragment.selection_set)
        if not found:
            return False
        selections = found
    return True
