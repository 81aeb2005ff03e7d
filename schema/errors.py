"""Typed errors in mutation payloads (`errors: [XError!]!`, one error type and code enum per domain), and the
mapping of service refusals (DomainError) onto them; the one base class of every mutation."""

from __future__ import annotations

import inspect

import graphene
from graphene.utils.props import props
from graphql import GraphQLError

from backend.accounts.errors import AuthErrorCode, DeviceErrorCode
from backend.errors import DomainError, DomainErrors
from backend.regions.errors import RegionErrorCode


class Error(graphene.Interface):
    field = graphene.String(description="The input field at fault, as named in the API; null for the whole request.")
    message = graphene.String(required=True, description="Translated, for people.")


def error_type(name: str, codes, description: str):
    """The payload error type of a domain's code enum (backend.errors.error_codes); `codes` stays on it."""
    enum = graphene.Enum.from_enum(codes, name=f"{name}Code", description=f"What went wrong in {description}.")
    return type(
        name,
        (graphene.ObjectType,),
        {
            "Meta": type("Meta", (), {"interfaces": (Error,), "description": f"An error in {description}."}),
            "code": graphene.Field(enum, required=True),
            "retry_after": graphene.Int(description="Seconds to wait before trying again (rate limits)."),
            "codes": codes,
        },
    )


AuthError = error_type("AuthError", AuthErrorCode, "signing in or managing the account")
DeviceError = error_type("DeviceError", DeviceErrorCode, "registering a device")
RegionError = error_type("RegionError", RegionErrorCode, "tenancy data")


def as_payload_errors(exc: DomainError | DomainErrors, codes) -> list[dict]:
    """The one place a refusal's code becomes a payload's: by value, since a domain's codes include those it passes
    on. A code the payload cannot carry is a programming error (ValueError), which tests/schema/test_mutations.py rules
    out for every code a service can raise."""
    errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return [
        {
            "code": codes(e.code.value),
            "field": e.field,
            "message": e.message,
            "retry_after": e.params.get("retry_after"),
        }
        for e in errors
    ]


def declared_arguments(mutation) -> set[str]:
    """The arguments a mutation class declares (snake_case), inherited ones included."""
    arguments = getattr(mutation, "Arguments", None)
    return set(props(arguments)) if arguments else set()


class DomainMutation(graphene.Mutation):
    """Base of every mutation. A subclass names its payload's error type in `Error` (the `errors` field follows from
    it), declares its `Arguments`, and implements `perform(cls, info, ...)` taking exactly those arguments, each
    handed to the one service it calls; a subclass whose `perform` misses one (or takes `**kwargs`) is refused when
    the schema is built, and tests/schema/test_mutations.py checks each one reaches the call. Expected refusals
    become typed payload errors."""

    class Meta:
        abstract = True

    Error: type

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        cls.errors = graphene.List(graphene.NonNull(cls.Error), required=True)
        parameters = inspect.signature(cls.perform).parameters
        taken = {name for name in parameters if name != "info"}
        declared = declared_arguments(cls)
        if taken != declared or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            raise TypeError(f"{cls.__name__}.perform takes {sorted(taken)}, its Arguments are {sorted(declared)}")
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def mutate(cls, root, info, **arguments):
        try:
            payload = cls.perform(info, **arguments)
        except (DomainError, DomainErrors) as exc:
            return cls(errors=as_payload_errors(exc, cls.Error.codes))
        if payload.errors is None:
            payload.errors = []
        return payload


def query_error(exc: DomainError) -> GraphQLError:
    """A refusal inside a query: the field is null and the error carries the code."""
    return GraphQLError(exc.message, extensions={"code": str(exc.code).upper()})
