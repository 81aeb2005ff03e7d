"""Every mutation in one style (schema.errors.DomainMutation) that cannot drop an argument, and every refusal a
service can raise is a code its payload can carry."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from enum import StrEnum
from pathlib import Path

import graphene
import pytest

import schema  # noqa: F401  (every mutation class is defined)
from backend.accounts.actor import Actor
from backend.cases.workflow import KINDS
from backend.errors import DomainError, error_codes
from media.errors import MediaErrorCode
from schema.errors import DomainMutation, declared_arguments, error_type


def mutations() -> list[type[DomainMutation]]:
    found, pending = [], [DomainMutation]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if "perform" in vars(subclass):
                found.append(subclass)
    return sorted(found, key=lambda cls: cls.__name__)


def perform_tree(mutation) -> ast.FunctionDef:
    function = ast.parse(textwrap.dedent(inspect.getsource(vars(mutation)["perform"].__func__))).body[0]
    assert isinstance(function, ast.FunctionDef)
    return function


def test_the_schema_has_its_mutations():
    names = {cls.__name__ for cls in mutations()}
    assert len(names) > 40 and {"SubmitComplaint", "AcceptCase", "IssuePermit", "SignIn"} <= names


@pytest.mark.parametrize("mutation", mutations(), ids=lambda cls: cls.__name__)
def test_every_argument_reaches_the_call(mutation):
    """`perform` takes exactly the declared arguments (checked as the class is made) and reads each one."""
    function = perform_tree(mutation)
    read = {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    assert declared_arguments(mutation) - read == set()
    if "version" in declared_arguments(mutation):
        assert any(
            isinstance(node, ast.keyword)
            and node.arg == "expected_version"
            and getattr(node.value, "id", "") == "version"
            for node in ast.walk(function)
        ), "the version is handed to the service as expected_version"


def test_a_mutation_that_would_drop_an_argument_is_refused_when_defined():
    Error = error_type("ProbeError", MediaErrorCode, "a probe")
    with pytest.raises(TypeError, match=r"perform takes \['case_id'\], its Arguments are \['case_id', 'version'\]"):

        class Dropping(DomainMutation):
            Error = error_type("DroppingError", MediaErrorCode, "a probe")

            class Arguments:
                case_id = graphene.ID(required=True)
                version = graphene.Int()

            @classmethod
            def perform(cls, info, case_id):
                return cls()

    with pytest.raises(TypeError, match="its Arguments are"):

        class Swallowing(DomainMutation):
            Error = error_type("SwallowingError", MediaErrorCode, "a probe")

            class Arguments:
                case_id = graphene.ID(required=True)

            @classmethod
            def perform(cls, info, case_id, **rest):
                return cls()

    assert Error.codes is MediaErrorCode


def test_a_domain_s_codes_are_built_from_its_parts():
    class Own(StrEnum):
        LATE = "late"

    class Clashing(StrEnum):
        LATE = "too_late"

    codes = error_codes("ProbeCode", Own, MediaErrorCode)
    assert [c.value for c in codes] == ["late", *MediaErrorCode] and codes.parts == (Own, MediaErrorCode)
    assert codes(MediaErrorCode.EMPTY) is codes.EMPTY
    with pytest.raises(TypeError, match=r"Clashing\.LATE is 'too_late', elsewhere 'late'"):
        error_codes("ProbeCode", Own, Clashing)


# --- which codes a service can raise: read from the source ---------------------------------------------------------

PACKAGES = ("backend", "media", "notifications", "schema")
# What every service asks of the actor: followed wherever a name's attribute is called so.
ACTOR_METHODS = {name for name, value in vars(Actor).items() if callable(value) or isinstance(value, property)} - {
    "__init__"
}
REJECTIONS = {"MediaRejected": MediaErrorCode, "DocumentRejected": MediaErrorCode}  # `except X as e`: e.code


def is_error_codes(value) -> bool:
    return isinstance(value, type) and issubclass(value, StrEnum) and value.__name__.endswith(("ErrorCode", "Code"))


class Source:
    """The functions of our packages, what codes each raises itself, and which of our functions it names."""

    def __init__(self):
        self.raises: dict[str, set[str]] = {}
        self.names: dict[str, set[str]] = {}
        self.unresolved: list[str] = []
        for package in PACKAGES:
            root = importlib.import_module(package)
            modules = [package] + [
                info.name
                for info in pkgutil.walk_packages(root.__path__, f"{package}.")
                if "migrations" not in info.name
            ]
            for name in modules:
                module = importlib.import_module(name)
                self._read(module, ast.parse(Path(module.__file__).read_text()))

    @staticmethod
    def key(function) -> str | None:
        function = inspect.unwrap(getattr(function, "__func__", function))
        if not inspect.isfunction(function) or not function.__module__.startswith(PACKAGES):
            return None
        return f"{function.__module__}:{function.__qualname__}"

    def _read(self, module, tree):
        def visit(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._function(module, f"{prefix}{child.name}", child)
                    visit(child, f"{prefix}{child.name}.<locals>.")
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")
                else:
                    visit(child, prefix)

        visit(tree, "")
        for statement in tree.body:  # a table of functions (e.g. BULK_ACTIONS) is followed where it is named
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                self._function(module, statement.targets[0].id, statement.value)

    def _resolve(self, module, node):
        if isinstance(node, ast.Name):
            return getattr(module, node.id, None)
        if isinstance(node, ast.Attribute):
            owner = self._resolve(module, node.value)
            return getattr(owner, node.attr, None) if owner is not None else None
        return None

    def _function(self, module, qualname, tree):
        key = f"{module.__name__}:{qualname}"
        raises, names = self.raises.setdefault(key, set()), self.names.setdefault(key, set())
        parameters = (
            {a.arg for a in tree.args.args + tree.args.kwonlyargs}
            if isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef)
            else set()
        )
        handlers = {
            handler.name: handler.type
            for handler in ast.walk(tree)
            if isinstance(handler, ast.ExceptHandler) and handler.name
        }
        for node in ast.walk(tree):
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                value = self._resolve(module, node)
                if (found := self.key(value) if callable(value) else None) is not None:
                    names.add(found)
                elif isinstance(node, ast.Name) and isinstance(value, dict | list | tuple):
                    names.add(f"{module.__name__}:{node.id}")
                if isinstance(node, ast.Attribute) and node.attr in ACTOR_METHODS:  # `actor.works_at(…)` and kin
                    names.add(f"{Actor.__module__}:Actor.{node.attr}")
                if isinstance(node, ast.Attribute) and is_error_codes(self._resolve(module, node.value)):
                    raises.add(getattr(self._resolve(module, node.value), node.attr).value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DomainError":
                code = node.args[0]
                if isinstance(code, ast.Attribute) and is_error_codes(self._resolve(module, code.value)):
                    continue  # counted above
                if isinstance(code, ast.Name) and code.id in parameters:
                    continue  # the callers name the code: counted where they do
                if (
                    isinstance(code, ast.Attribute)
                    and code.attr == "code"
                    and isinstance(code.value, ast.Name)
                    and getattr(handlers.get(code.value.id), "id", None) in REJECTIONS
                ):
                    raises.update(c.value for c in REJECTIONS[handlers[code.value.id].id])
                    continue
                self.unresolved.append(f"{key}: {ast.unparse(node)[:80]}")

    def reachable_codes(self, key: str) -> set[str]:
        seen, pending, codes = set(), [key], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            codes |= self.raises.get(current, set())
            pending.extend(self.names.get(current, ()))
            if current == "backend.cases.services:transition":  # the moves' guards and roles, registered by kinds
                pending.extend(self.key(m.guard) for kind in KINDS.values() for m in kind.table.values() if m.guard)
                pending.extend(self.key(kind.roles) for kind in KINDS.values() if kind.roles)
        return codes


@pytest.fixture(scope="module")
def source():
    return Source()


def test_every_refusal_names_a_code_the_test_can_follow(source):
    assert source.unresolved == []


@pytest.mark.parametrize("mutation", mutations(), ids=lambda cls: cls.__name__)
def test_every_code_a_mutation_can_meet_is_one_its_payload_carries(source, mutation):
    """What `perform` and everything it names (services, their helpers, the moves' guards) can raise is serialisable
    by the payload's error type; schema.errors.as_payload_errors would otherwise fail."""
    codes = source.reachable_codes(source.key(vars(mutation)["perform"]))
    assert codes, "a mutation refuses something"
    assert codes - {c.value for c in mutation.Error.codes} == set()


def test_a_code_outside_the_payload_fails_loudly():
    from schema.errors import as_payload_errors

    assert (
        as_payload_errors(DomainError(MediaErrorCode.EMPTY, "kosong"), MediaErrorCode)[0]["code"]
        is MediaErrorCode.EMPTY
    )
    with pytest.raises(ValueError, match="'forbidden' is not a valid MediaErrorCode"):
        as_payload_errors(DomainError(KINDS and _forbidden(), "tidak"), MediaErrorCode)


def _forbidden():
    from backend.cases.errors import CaseErrorCode

    return CaseErrorCode.FORBIDDEN
