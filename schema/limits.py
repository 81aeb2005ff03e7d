"""Validation rules that bound the work one request may ask for: depth, aliases, and cost.

Cost counts one per selected field, multiplied by the page size of every enclosing connection (`first`/`last`; a
variable, or a connection asked for without one, counts as the connection cap), so a nested page of pages costs
what it really asks the server to do. Fragments are expanded; introspection fields are free.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from graphene.validation import DisableIntrospection, depth_limit_validator
from graphql import DocumentNode, GraphQLError, parse, validate
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, IntValueNode, SelectionSetNode
from graphql.validation import ValidationRule, specified_rules

PAGE_ARGUMENTS = ("first", "last")


class AliasLimitRule(ValidationRule):
    def enter_document(self, node, *_args):
        aliases = 0
        for definition in node.definitions:
            stack = [getattr(definition, "selection_set", None)]
            while stack:
                selection_set = stack.pop()
                if selection_set is None:
                    continue
                for selection in selection_set.selections:
                    if isinstance(selection, FieldNode) and selection.alias is not None:
                        aliases += 1
                    stack.append(getattr(selection, "selection_set", None))
        if aliases > settings.GRAPHQL_MAX_ALIASES:
            self.report_error(
                GraphQLError(
                    f"The query uses {aliases} aliases; at most {settings.GRAPHQL_MAX_ALIASES} are allowed.",
                    extensions={"code": "TOO_MANY_ALIASES"},
                )
            )


class CostLimitRule(ValidationRule):
    def enter_operation_definition(self, node, *_args):
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        cost = self._cost(node.selection_set, 1, fragments, frozenset())
        if cost > settings.GRAPHQL_MAX_COST:
            self.report_error(
                GraphQLError(
                    f"The query would cost {cost}; the limit is {settings.GRAPHQL_MAX_COST}. Ask for smaller pages.",
                    [node],
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": settings.GRAPHQL_MAX_COST},
                )
            )

    def _cost(self, selection_set: SelectionSetNode | None, multiplier: int, fragments, seen) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                total += multiplier
                total += self._cost(selection.selection_set, multiplier * _page_size(selection), fragments, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, multiplier, fragments, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:
                    continue  # cycles and unknown fragments are reported by the standard rules
                total += self._cost(fragments[name].selection_set, multiplier, fragments, seen | {name})
        return total


def _page_size(field: FieldNode) -> int:
    cap = settings.GRAPHENE.get("RELAY_CONNECTION_MAX_LIMIT", 100)
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), cap))
            return cap
    # A connection asked for without a page size gets the cap (graphene-django's default page).
    if field.selection_set and any(
        isinstance(s, FieldNode) and s.name.value == "edges" for s in field.selection_set.selections
    ):
        return cap
    return 1


def validation_rules() -> list:
    """The standard rules of the specification plus ours (graphql-core replaces the standard set when given one)."""
    depth = depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH)
    rules = [*specified_rules, depth, AliasLimitRule, CostLimitRule]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(DisableIntrospection)
    return rules


@lru_cache(maxsize=512)
def _checked(query: str, limits: tuple) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    from schema import schema

    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(schema.graphql_schema, document, validation_rules()))


def checked_document(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """The parsed document and its validation errors, remembered per query text: apps send the same few queries
    over and over, and parsing plus validating costs more than running a small one. The limits are part of the key,
    so a changed setting is honoured at once; the cache is bounded, so odd queries cannot grow it."""
    limits = (
        settings.GRAPHQL_MAX_DEPTH,
        settings.GRAPHQL_MAX_ALIASES,
        settings.GRAPHQL_MAX_COST,
        settings.GRAPHQL_INTROSPECTION,
    )
    return _checked(query, limits)
