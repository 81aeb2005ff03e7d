"""Every mutation that takes a `version` refuses a stale one with CONFLICT, whatever else it would do: the
behaviour behind the structural checks of test_mutations.py (a mutation, or its service, that drops the version
fails here). Each is called over /graphql with valid arguments and version 999, as a person entitled to it."""

from __future__ import annotations

import graphene
import pytest
from graphql_relay import to_global_id

from backend.accounts.models import User
from backend.regions.models import Agency
from schema.errors import declared_arguments
from tests.helpers import staff_user
from tests.permits.conftest import Permits
from tests.schema.test_mutations import mutations

pytestmark = pytest.mark.django_db

VERSIONED = [m for m in mutations() if "version" in declared_arguments(m)]
# Mutations a resident makes on their own case; every other one is staff work (done here by a superuser).
BY_THE_RESIDENT = {
    "ProvideInformation",
    "ConfirmResolution",
    "ReopenComplaint",
    "ResubmitPermitApplication",
    "WithdrawPermitApplication",
    "SendPermitMessage",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def sample(name: str, argument, demo, cases) -> tuple[str, object]:
    """A valid value for a required argument, and its GraphQL type."""
    kind = type(argument)
    if name == "agency_id":
        return "ID!", to_global_id("Agency", Agency.objects.get(region=demo["muba"], code="dishub").pk)
    if name == "assignee_id":
        return "ID!", to_global_id("User", staff_user("pupr.staf").pk)
    if name == "original_id":
        return "ID!", cases["another complaint"]
    if name == "items":
        return "[RevisionItemInput!]!", [{"field": "applicantName", "note": "Tulis nama lengkap."}]
    if isinstance(argument, graphene.Enum) or (isinstance(kind, type) and issubclass(kind, graphene.Enum)):
        enum = argument._meta.enum if hasattr(argument, "_meta") else kind._meta.enum
        return f"{kind._meta.name}!", next(iter(enum)).name
    return "String!", "cukup"


@pytest.fixture
def cases(gql, demo, local_media, road_complaint_id, resident, submit, category, places):
    another = submit(category("jalan-rusak"), *places["balai_agung"])["case"]["id"]
    application = Permits(gql).filed(resident)
    return {"complaint": road_complaint_id, "another complaint": another, "permit": application["case"]["id"]}


@pytest.mark.parametrize("mutation", VERSIONED, ids=lambda cls: cls.__name__)
def test_a_stale_version_is_a_conflict(gql, demo, cases, resident, mutation):
    kind = "permit" if mutation.Error.__name__ == "PermitError" else "complaint"
    if mutation.__name__ in BY_THE_RESIDENT:
        gql.sign_in_as(resident)
    else:
        gql.sign_in_as(User.objects.create_superuser(username="root", email="root@example.org", password="x" * 12))
    params, values = ["$caseId: ID!", "$version: Int"], {"caseId": cases[kind], "version": 999}
    arguments = vars(mutation.Arguments) | {k: v for base in mutation.Arguments.__mro__ for k, v in vars(base).items()}
    for name in sorted(declared_arguments(mutation) - {"case_id", "version"}):
        argument = arguments[name]
        if not getattr(argument, "kwargs", {}).get("required"):
            continue
        graphql_type, value = sample(name, argument, demo, cases)
        params.append(f"${camel(name)}: {graphql_type}")
        values[camel(name)] = value
    field = camel(mutation.__name__[0].lower() + mutation.__name__[1:])
    call = ", ".join(f"{k}: ${k}" for k in values)
    result = gql(f"mutation({', '.join(params)}) {{ {field}({call}) {{ errors {{ code field }} }} }}", values)[field]
    assert result["errors"] == [{"code": "CONFLICT", "field": "version"}], result
