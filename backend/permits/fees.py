"""Permit fees: none, a fixed amount, a table of brackets over one form field, or a formula over form fields in a
small arithmetic language. Formulas are parsed with Python's `ast` and evaluated by walking a whitelist of nodes:
numbers, form field names, + - * / // %, comparisons, `and`/`or`/`not`, `a if condition else b`, and the functions
min, max, round, ceil and floor. Nothing else parses (no attributes, calls of anything else, subscripts, names that
are not fields), so a formula cannot reach Python. Amounts are whole rupiah, rounded half up.
"""

from __future__ import annotations

import ast
import math
import operator
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

MAX_FORMULA = 500

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS = {"min": min, "max": max, "round": round, "ceil": math.ceil, "floor": math.floor}


class FeeError(ValueError):
    """A fee rule that cannot be used, or cannot be worked out for these answers."""


def parse_formula(text: str) -> ast.Expression:
    """The formula's tree, checked against the whitelist; FeeError names what is not allowed."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_FORMULA:
        raise FeeError(_("A formula is an expression of at most %(n)s characters.") % {"n": MAX_FORMULA})
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise FeeError(_("The formula does not parse: %(error)s.") % {"error": exc.msg}) from None
    for node in ast.walk(tree):
        allowed = (
            isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Load))
            or type(node) in _BINARY
            or type(node) in _COMPARE
            or isinstance(node, (ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or))
            or (isinstance(node, ast.Constant) and type(node.value) in (int, float))
            or isinstance(node, ast.Name)
            or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS)
        )
        if isinstance(node, ast.Call) and (node.keywords or not node.args):
            allowed = False
        if not allowed:
            raise FeeError(_("The formula uses something not allowed: %(what)s.") % {"what": type(node).__name__})
    return tree


def formula_fields(text: str) -> set[str]:
    """The form fields a formula reads."""
    tree = parse_formula(text)
    calls = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in calls}


def _number(value, name: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FeeError(_("The fee needs a number in %(field)s.") % {"field": name})
    return value


def _evaluate(node, answers: dict):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, answers)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in answers:
            raise FeeError(_("The fee needs an answer in %(field)s.") % {"field": node.id})
        return _number(answers[node.id], node.id)
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, answers), _evaluate(node.right, answers)
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise FeeError(_("The fee formula divides by zero for these answers.")) from None
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, answers)
        return -value if isinstance(node.op, ast.USub) else (+value if isinstance(node.op, ast.UAdd) else not value)
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(v, answers) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, answers)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, answers)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _evaluate(node.body if _evaluate(node.test, answers) else node.orelse, answers)
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*(_evaluate(arg, answers) for arg in node.args))
    raise FeeError(type(node).__name__)  # unreachable: parse_formula refused it


def check_rule(rule: dict) -> None:
    """A fee rule as a permit type stores it; FeeError when it cannot be used."""
    kind = (rule or {}).get("kind", "none")
    if kind == "none":
        return
    if kind == "fixed":
        _number(rule.get("amount"), "amount")
        if rule["amount"] < 0:
            raise FeeError(_("A fee cannot be negative."))
        return
    if kind == "formula":
        parse_formula(rule.get("expression"))
        return
    if kind == "table":
        brackets = rule.get("brackets")
        if not isinstance(rule.get("field"), str) or not isinstance(brackets, list) or not brackets:
            raise FeeError(_("A fee table names a field and lists its brackets."))
        limits = [b.get("upto") for b in brackets]
        if limits[-1] is not None or any(u is None for u in limits[:-1]) or limits[:-1] != sorted(limits[:-1]):
            raise FeeError(_("Fee brackets rise, and the last one has no upper limit."))
        for bracket in brackets:
            _number(bracket.get("amount"), "amount")
        return
    raise FeeError(_("Unknown kind of fee: %(kind)s.") % {"kind": kind})


def required(rule: dict) -> bool:
    return (rule or {}).get("kind", "none") != "none"


def amount(rule: dict, answers: dict) -> int:
    """The fee in whole rupiah for these form answers."""
    check_rule(rule)
    kind = (rule or {}).get("kind", "none")
    if kind == "none":
        value = 0
    elif kind == "fixed":
        value = rule["amount"]
    elif kind == "formula":
        value = _number(_evaluate(parse_formula(rule["expression"]), answers), "formula")
    else:
        measure = _number(answers.get(rule["field"]) if rule["field"] in answers else None, rule["field"])
        value = next(b["amount"] for b in rule["brackets"] if b["upto"] is None or measure <= b["upto"])
    if value < 0:
        raise FeeError(_("The fee works out below zero for these answers."))
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
