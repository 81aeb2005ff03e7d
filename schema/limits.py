"""Bounds on the work one request may ask for: its size, checked before validation, then depth, aliases and cost.

Validation itself can be made expensive: graphql-core's check that same-named fields can be merged compares them in
pairs (2,000 repeats of `me{id}` took 9 s, 20,000 minutes), and a fragment spread twice in a fragment spread twice
in ... doubles the work at every level. So before any validation rule runs, a document is parsed with a token limit
(GRAPHQL_MAX_TOKENS) and its shape is measured in time linear in its text (_shape_errors): how many fields it holds
with its fragments expanded where they are spread (GRAPHQL_MAX_FIELDS, each fragment's size worked out once), and
how many fields share one response name where the merge check compares them (GRAPHQL_MAX_FIELD_REPEATS). Within
those, the merge check does at most MAX_FIELDS x MAX_FIELD_REPEATS comparisons.

Cost counts one per selected field, multiplied by the page size of every enclosing connection (`first`/`last`; a
variable, or a connection asked for without one, counts as the connection cap), so a nested page of pages costs
what it really asks the server to do. Fragments are expanded; introspection fields are free.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from graphql import DocumentNode, GraphQLError, parse, validate
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
)
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
                    _("The query uses %(aliases)d aliases; at most %(limit)d are allowed.")
                    % {"aliases": aliases, "limit": settings.GRAPHQL_MAX_ALIASES},
                    extensions={"code": "TOO_MANY_ALIASES", "aliases": aliases, "limit": settings.GRAPHQL_MAX_ALIASES},
                )
            )


class DepthLimitRule(ValidationRule):
    """Fields nested deeper than GRAPHQL_MAX_DEPTH (an operation's own fields are at depth 0; fragments are looked
    through, each once per path; introspection fields are not counted)."""

    def enter_operation_definition(self, node, *_args):
        limit = settings.GRAPHQL_MAX_DEPTH
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        depth = _depth(node.selection_set, 0, fragments, frozenset(), limit)
        if depth > limit:
            self.report_error(
                GraphQLError(
                    _("The query nests fields more than %(limit)d levels deep.") % {"limit": limit},
                    [node],
                    extensions={"code": "QUERY_TOO_DEEP", "limit": limit},
                )
            )


def _depth(
    selection_set: SelectionSetNode | None, depth: int, fragments: dict, expanding: frozenset, limit: int
) -> int:
    """The depth of the deepest field in `selection_set`, whose own fields are at `depth` (counted up to limit + 1)."""
    deepest = -1
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            deepest = max(deepest, depth)
            if selection.selection_set is not None and depth <= limit:
                deepest = max(deepest, _depth(selection.selection_set, depth + 1, fragments, expanding, limit))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, depth, fragments, expanding, limit))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in expanding:  # cycles and unknown names: the standard rules
                deepest = max(
                    deepest, _depth(fragments[name].selection_set, depth, fragments, expanding | {name}, limit)
                )
    return deepest


class CostLimitRule(ValidationRule):
    def enter_operation_definition(self, node, *_args):
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        cost = self._cost(node.selection_set, 1, fragments, frozenset())
        if cost > settings.GRAPHQL_MAX_COST:
            self.report_error(
                GraphQLError(
                    _("The query would cost %(cost)d; the limit is %(limit)d. Ask for smaller pages.")
                    % {"cost": cost, "limit": settings.GRAPHQL_MAX_COST},
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
            if isinstance(argument.value, IntValueNode) and len(argument.value.value) <= len(str(cap)):
                return max(1, min(int(argument.value.value), cap))
            return cap
    # A connection asked for without a page size gets the cap (graphene-django's default page).
    if field.selection_set and any(
        isinstance(s, FieldNode) and s.name.value == "edges" for s in field.selection_set.selections
    ):
        return cap
    return 1


MAX_INPUT_DEPTH = 32  # nesting of lists and objects in variables: the API's deepest input is far shallower
# PostgreSQL's text takes no NUL, and UTF-8 has no lone surrogate (JSON's "\ud800" without its pair): no field of
# this API means either.
FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")


def input_errors(document: DocumentNode, variables: dict | None) -> list[GraphQLError]:
    """What no resolver should see, found before execution: text with a NUL character or a lone surrogate (in the
    document's literals or in the variables) and variables nested deeper than MAX_INPUT_DEPTH. Each is a typed
    BAD_USER_INPUT naming where it is. Iterative: a variable nested thousands deep is measured without recursion."""
    found = []
    for node in _literals(document, StringValueNode):
        if FORBIDDEN_TEXT.search(node.value):
            found.append(GraphQLError(_text_message(), [node], extensions={"code": "BAD_USER_INPUT"}))
            break
    stack = [(value, [name], 1) for name, value in (variables or {}).items()]
    while stack and len(found) < 2:
        value, path, depth = stack.pop()
        if depth > MAX_INPUT_DEPTH:
            message = _("A variable is nested more than %(limit)d levels deep.") % {"limit": MAX_INPUT_DEPTH}
            found.append(GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "variable": path[0]}))
            break
        if isinstance(value, str):
            if FORBIDDEN_TEXT.search(value):
                found.append(GraphQLError(_text_message(), extensions={"code": "BAD_USER_INPUT", "variable": path}))
        elif isinstance(value, dict):
            for key, item in value.items():
                if FORBIDDEN_TEXT.search(key):
                    found.append(GraphQLError(_text_message(), extensions={"code": "BAD_USER_INPUT", "variable": path}))
                stack.append((item, [*path, key], depth + 1))
        elif isinstance(value, list):
            stack.extend((item, [*path, index], depth + 1) for index, item in enumerate(value))
    return found[:1]


def _text_message() -> str:
    return _("Text may not contain the NUL character (U+0000) or a lone UTF-16 surrogate (U+D800 to U+DFFF).")


def _literals(document: DocumentNode, kind: type[Node]):
    """Every literal of a kind in the document (arguments, default values, lists and objects), without recursion."""
    stack = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            yield node
            continue
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, (list, tuple)):
                stack.extend(item for item in child if isinstance(item, Node))


def validation_rules() -> list:
    """The standard rules of the specification plus ours (graphql-core replaces the standard set when given one)."""
    rules = [*specified_rules, DepthLimitRule, AliasLimitRule, CostLimitRule]
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(NoIntrospection)
    return rules


class NoIntrospection(ValidationRule):
    """Without introspection: no `__schema` and no `__type`. `__typename` stays, as the GraphQL specification has it
    on every object: Apollo Client adds it to every selection to keep its cache."""

    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    _("Introspection is turned off on this server."),
                    node,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )


class _Shape:
    """Fields of a document counted with its fragments expanded where they are spread, without expanding anything
    twice: each fragment's size is worked out once. Fragment cycles and unknown fragments count nothing here (the
    standard rules report them)."""

    def __init__(self, document: DocumentNode):
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.sizes: dict[str, int] = {}

    def size(self, selection_set: SelectionSetNode | None, expanding: frozenset = frozenset()) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + self.size(selection.selection_set, expanding)
            elif isinstance(selection, InlineFragmentNode):
                total += self.size(selection.selection_set, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment_size(selection.name.value, expanding)
        return total

    def fragment_size(self, name: str, expanding: frozenset) -> int:
        if name in expanding or name not in self.fragments:
            return 0
        if name not in self.sizes:
            self.sizes[name] = self.size(self.fragments[name].selection_set, expanding | {name})
        return self.sizes[name]

    def most_repeated(self, selection_sets: list[SelectionSetNode], expanding: frozenset = frozenset()) -> int:
        """The most fields sharing one response name where the merge check compares them: in these selection sets
        (those of same-named fields are merged), their fragments included, then the same below. A fragment already
        being expanded on the way here is not expanded again (a cycle: the standard rules report it)."""
        groups: dict[str, list[FieldNode]] = {}
        spread: set[str] = set()
        self._collect(selection_sets, groups, spread, expanding)
        worst = max((len(fields) for fields in groups.values()), default=0)
        for fields in groups.values():
            below = [field.selection_set for field in fields if field.selection_set is not None]
            if below:
                worst = max(worst, self.most_repeated(below, expanding | spread))
        return worst

    def _collect(self, selection_sets, groups: dict, spread: set, expanding: frozenset) -> None:
        for selection_set in selection_sets:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    groups.setdefault(name, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    self._collect([selection.selection_set], groups, spread, expanding)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    # Each fragment once per level, as merged; never one that contains this place.
                    if name not in spread and name not in expanding and name in self.fragments:
                        spread.add(name)
                        self._collect([self.fragments[name].selection_set], groups, spread, expanding)


MAX_INT_DIGITS = 20  # no Int or ID argument of this API needs more (a bigint has 19)


def _literal_errors(document: DocumentNode) -> list[GraphQLError]:
    """An integer literal longer than any argument takes: graphql-core would hand it to int(), which refuses more
    than 4,300 digits with an error of its own (a server error then)."""
    for node in _literals(document, IntValueNode):
        if len(node.value.lstrip("-")) > MAX_INT_DIGITS:
            message = _("A number in the query has more than %(limit)d digits.") % {"limit": MAX_INT_DIGITS}
            return [GraphQLError(message, [node], extensions={"code": "BAD_USER_INPUT"})]
    return []


def _shape_errors(document: DocumentNode) -> list[GraphQLError]:
    literal_errors = _literal_errors(document)
    if literal_errors:
        return literal_errors
    shape = _Shape(document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fields = sum(shape.size(operation.selection_set) for operation in operations)
    fields += sum(shape.fragment_size(name, frozenset()) for name in shape.fragments)
    if fields > settings.GRAPHQL_MAX_FIELDS:
        message = _("The query asks for %(fields)d fields (fragments counted where they are used); at most %(limit)d.")
        return [
            GraphQLError(
                message % {"fields": fields, "limit": settings.GRAPHQL_MAX_FIELDS},
                extensions={"code": "QUERY_TOO_LARGE", "fields": fields, "limit": settings.GRAPHQL_MAX_FIELDS},
            )
        ]
    for operation in operations:
        repeats = shape.most_repeated([operation.selection_set])
        if repeats > settings.GRAPHQL_MAX_FIELD_REPEATS:
            message = _("One field is asked for %(repeats)d times in the same place; at most %(limit)d.")
            limit = settings.GRAPHQL_MAX_FIELD_REPEATS
            return [
                GraphQLError(
                    message % {"repeats": repeats, "limit": limit},
                    [operation],
                    extensions={"code": "FIELD_REPEATED", "repeats": repeats, "limit": limit},
                )
            ]
    return []


@lru_cache(maxsize=512)
def _checked(query: str, limits: tuple) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    from schema import schema

    try:
        document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except RecursionError:  # a literal nested thousands deep (`bbox: [[[[…]]]]`)
        message = _("The query nests values too deeply.")
        return None, (GraphQLError(message, extensions={"code": "QUERY_TOO_LARGE"}),)
    except GraphQLError as error:
        if "tokens. Parsing aborted" in error.message:  # graphql-core's "Document contains more than N tokens. …"
            message = _("The query is too long: at most %(limit)d tokens.") % {"limit": settings.GRAPHQL_MAX_TOKENS}
            error = GraphQLError(message, extensions={"code": "QUERY_TOO_LARGE", "limit": settings.GRAPHQL_MAX_TOKENS})
        return None, (_coded(error, "GRAPHQL_PARSE_FAILED"),)
    shape_errors = _shape_errors(document)
    if shape_errors:
        return None, tuple(shape_errors)
    errors = validate(schema.graphql_schema, document, validation_rules())
    return document, tuple(_coded(error, "GRAPHQL_VALIDATION_FAILED") for error in errors)


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    """The error with `extensions.code` (the codes Apollo's servers use for a document that does not parse or
    validate), unless it has one of its own."""
    if (error.extensions or {}).get("code"):
        return error
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        {**(error.extensions or {}), "code": code},
    )


def checked_document(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """The parsed document and its validation errors, remembered per query text: apps send the same few queries
    over and over, and parsing plus validating costs more than running a small one. The limits are part of the key,
    so a changed setting is honoured at once, and so is the language; the cache is bounded, so odd queries cannot
    grow it."""
    limits = (
        settings.GRAPHQL_MAX_DEPTH,
        settings.GRAPHQL_MAX_ALIASES,
        settings.GRAPHQL_MAX_COST,
        settings.GRAPHQL_MAX_TOKENS,
        settings.GRAPHQL_MAX_FIELDS,
        settings.GRAPHQL_MAX_FIELD_REPEATS,
        settings.GRAPHQL_INTROSPECTION,
        translation.get_language(),  # the errors' messages are in it
    )
    return _checked(query, limits)
