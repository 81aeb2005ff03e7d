"""Typed errors in mutation payloads (`errors: [XError!]!`, one error type and code enum per domain), and the
mapping of service refusals (DomainError) onto them."""

from __future__ import annotations

import graphene
from graphql import GraphQLError

from backend.accounts.errors import AuthErrorCode, DeviceErrorCode
from backend.errors import DomainError, DomainErrors
from backend.regions.errors import RegionErrorCode


class Error(graphene.Interface):
    field = graphene.String(description="The input field at fault, as named in the API; null for the whole request.")
    message = graphene.String(required=True, description="Translated, for people.")


def error_type(name: str, codes, description: str):
    enum = graphene.Enum.from_enum(codes, name=f"{name}Code", description=f"What went wrong in {description}.")

    return type(
        name,
        (graphene.ObjectType,),
        {
            "Meta": type("Meta", (), {"interfaces": (Error,), "description": f"An error in {description}."}),
            "code": graphene.Field(enum, required=True),
            "retry_after": graphene.Int(description="Seconds to wait before trying again (rate limits)."),
        },
    )


AuthError = error_type("AuthError", AuthErrorCode, "signing in or managing the account")
DeviceError = error_type("DeviceError", DeviceErrorCode, "registering a device")
RegionError = error_type("RegionError", RegionErrorCode, "tenancy data")


def as_payload_errors(exc: DomainError | DomainErrors) -> list[dict]:
    errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return [
        {"code": e.code, "field": e.field, "message": e.message, "retry_after": e.params.get("retry_after")}
        for e in errors
    ]


class DomainMutation(graphene.Mutation):
    """Base of every mutation: subclasses implement `perform`; expected refusals become typed payload errors."""

    class Meta:
        abstract = True

    @classmethod
    def mutate(cls, root, info, **arguments):
        try:
            return cls.perform(info, **arguments)
        except (DomainError, DomainErrors) as exc:
            return cls(errors=as_payload_errors(exc))


def query_error(exc: DomainError) -> GraphQLError:
    """A refusal inside a query: the field is null and the error carries the code."""
    return GraphQLError(exc.message, extensions={"code": str(exc.code).upper()})
