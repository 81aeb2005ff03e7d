"""The named statements (backend.sql): each names the columns its models have, in the order it reads them, and gives
the instances the ORM gives, field for field, on PostgreSQL and SQLite; every scope is a parameter."""

from __future__ import annotations

import re

import pytest

import backend.accounts.actor
import backend.accounts.tokens
import backend.cases.opening
import backend.complaints.selectors
import backend.complaints.services
import backend.regions.selectors
import backend.work.queue
import media.services  # noqa: F401 - the modules whose statements and inserts are checked
from backend import sql
from backend.accounts.models import AuthSession, User
from backend.accounts.services import ClientInfo, _start_session
from backend.cases.models import Case
from backend.complaints import selectors as complaint_selectors
from backend.regions import selectors as region_selectors
from backend.regions.models import Region
from tests.helpers import staff_user

STATEMENTS = sorted(sql.STATEMENTS, key=lambda statement: statement.name)


def test_every_statement_has_its_own_name():
    names = [statement.name for statement in STATEMENTS]
    assert len(names) == len(set(names)) >= 8


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement.name)
def test_a_statements_columns_are_its_models(statement):
    """A field added, renamed or removed by a migration fails here until the statement names it."""
    selected = re.match(r"SELECT (.*?) FROM ", statement.sql, re.S).group(1)
    listed = [column.strip().split(".")[-1] for column in selected.split(",")]
    position = 0
    for part in statement.parts:
        fields = [field.attname for field in part.model._meta.concrete_fields]
        if part.partial:
            assert set(part.columns) <= set(fields) and part.model._meta.pk.attname == part.columns[0]
        else:
            assert list(part.columns) == fields, f"{statement.name}: {part.model.__name__} has {fields}"
        assert listed[position : position + len(part.columns)] == list(part.columns)
        position += len(part.columns)
    assert "%s" in statement.sql or "({keys})" in statement.sql  # every statement takes its scope as a parameter


def fields_of(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
def test_the_session_and_its_user_are_the_orms(demo, resident):
    session = AuthSession.objects.get(pk=_session_id(resident))
    found, user = backend.accounts.tokens.SESSION_WITH_USER.first(sql.param(AuthSession, "id", session.pk))
    assert fields_of(found) == fields_of(session)
    assert fields_of(user) == fields_of(User.objects.get(pk=resident.pk))
    assert backend.accounts.tokens.SESSION_WITH_USER.first(sql.param(AuthSession, "id", _other_uuid())) is None


def _session_id(user):
    from backend.accounts.tokens import decode_access_token

    pair = _start_session(user, ClientInfo(ip="203.0.113.9", user_agent="test"))
    return decode_access_token(pair.access_token)["sid"]


def _other_uuid():
    import uuid

    return uuid.uuid4()


@pytest.mark.django_db
def test_roles_are_the_users_own(demo, resident):
    staff = staff_user("pupr.staf")
    rows = backend.accounts.actor.ROLES.rows(staff.pk)
    assert sorted(rows) == sorted(staff.memberships.values_list("region_id", "agency_id", "role"))
    assert backend.accounts.actor.ROLES.rows(resident.pk) == []


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["16.06", "musi-banyuasin"])
def test_a_region_and_its_triage_agency_are_the_orms(demo, value):
    region = region_selectors.region_by_slug_or_code(value)
    expected = Region.objects.select_related("triage_agency").get(code="16.06")
    assert fields_of(region) == fields_of(expected)
    assert fields_of(region.triage_agency) == fields_of(expected.triage_agency)
    Region.objects.filter(pk=expected.pk).update(active=False)
    assert region_selectors.region_by_slug_or_code(value) is None


@pytest.mark.django_db
def test_a_case_by_tracking_code_is_the_orms_and_its_regions_only(demo, submit, category, places):
    code = submit(category("jalan-rusak"), *places["lais"])["case"]["trackingCode"]
    case = complaint_selectors.case_by_tracking_code("code", "16.06", code)
    expected = Case.objects.select_related("complaint").get(tracking_code=code)
    assert fields_of(case) == fields_of(expected)
    assert {name: getattr(case.complaint, name) for name in complaint_selectors.COMPLAINT_FLAGS} == {
        name: getattr(expected.complaint, name) for name in complaint_selectors.COMPLAINT_FLAGS
    }
    assert case.complaint.description == expected.complaint.description  # the rest loads when read
    assert complaint_selectors.case_by_tracking_code("code", "73.72", code) is None  # another region's number
    parepare = Region.objects.get(code="73.72").slug
    assert complaint_selectors.case_by_tracking_code("slug", parepare, code) is None
    assert complaint_selectors.case_by_tracking_code("slug", "musi-banyuasin", code).pk == expected.pk


@pytest.mark.parametrize("insert", list(sql.INSERTS.values()), ids=lambda insert: insert.model.__name__)
def test_an_inserts_columns_are_its_models(insert):
    """Every column of the model, in its order: a field added by a migration fails here until the opening writes it."""
    assert list(insert.columns) == [field.attname for field in insert.model._meta.concrete_fields]


def test_the_opening_writes_with_named_inserts():
    from backend.cases.models import Case, CaseEvent, OutboxMessage
    from backend.complaints.models import Complaint
    from media.models import Attachment

    assert {Case, CaseEvent, OutboxMessage, Complaint, Attachment} <= set(sql.INSERTS)
