"""Compiled look-ups (backend.compiled) give the instances the ORM gives, read the database every time, and refuse
what they cannot serve."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db.models import F

from backend import compiled
from backend.accounts.models import AuthSession, Membership, User
from backend.accounts.tokens import decode_access_token
from backend.cases.models import Case

pytestmark = pytest.mark.django_db


def by_code(region_code, tracking_code):
    return (
        Case.objects.filter(region__code=region_code, tracking_code=tracking_code)
        .select_related("complaint__category", "region")
        .only("status", "due_at", "region__code", "complaint__extra", "complaint__category__code")
        .annotate(twice=F("version") * 2)
    )


@pytest.fixture
def cases(submit, places, category):
    return [submit(category(code), *places["lais"])["case"]["trackingCode"] for code in ("jalan-rusak", "sampah")]


def test_the_same_instances_as_the_orm(cases, django_assert_num_queries):
    for code in cases:
        with django_assert_num_queries(1):
            found = compiled.first("test-by-code", by_code, "16.06", code)
        expected = by_code("16.06", code).get()
        assert (found.pk, found.status, found.due_at, found.twice) == (
            expected.pk,
            expected.status,
            expected.due_at,
            expected.twice,
        )
        assert found.due_at.tzinfo is not None  # converted as the ORM converts (SQLite stores text)
        assert found.region.code == "16.06" and found.complaint.extra == expected.complaint.extra
        assert found.complaint.category.code == expected.complaint.category.code
        assert found.get_deferred_fields() == expected.get_deferred_fields()


def test_every_call_reads_the_database(cases):
    first = compiled.first("test-by-code", by_code, "16.06", cases[0])
    Case.objects.filter(pk=first.pk).update(status="accepted")
    assert compiled.first("test-by-code", by_code, "16.06", cases[0]).status == "accepted"
    assert compiled.first("test-by-code", by_code, "16.06", "ADU-1999-000001") is None


def test_value_lists_and_uuid_and_integer_values(gql, resident):
    session_id = uuid.UUID(decode_access_token(gql.sign_in_as(resident))["sid"])
    found = compiled.first(
        "test-session", lambda pk: AuthSession.objects.select_related("user").filter(pk=pk), session_id
    )
    assert found.pk == session_id and found.user == resident
    staff = User.objects.get(username="pupr.kabid")
    expected = list(Membership.objects.filter(user_id=staff.pk).values_list("agency_id", "role"))
    assert expected and compiled.rows("test-roles", memberships, staff.pk) == expected
    assert compiled.rows("test-roles", memberships, resident.pk) == []


def memberships(user_id):
    return Membership.objects.filter(user_id=user_id).values_list("agency_id", "role")


def test_datetimes_and_constants_that_look_like_stand_ins(cases):
    case = Case.objects.get(tracking_code=cases[0])

    def build(pk, before):  # the constant equals the first stand-in for an integer: it must stay a constant
        return (
            Case.objects.filter(pk=pk, submitted_at__lt=before).exclude(version=-(2**62)).values_list("tracking_code")
        )

    later = case.submitted_at + timedelta(seconds=1)
    assert compiled.first("test-datetime", build, case.pk, later) == (cases[0],)
    assert compiled.first("test-datetime", build, case.pk, case.submitted_at) is None


def test_a_query_that_matches_nothing(db):
    def build(code):
        return Case.objects.filter(tracking_code=code, pk__in=[])

    assert compiled.rows("test-nothing", build, "ADU") == []


def test_values_the_query_changes_or_prefetches_are_refused(db):
    with pytest.raises(ValueError, match="each value"):
        compiled.first("test-upper", lambda code: Case.objects.filter(tracking_code=code.upper()), "adu")
    with pytest.raises(ValueError, match="prefetch"):
        compiled.first(
            "test-prefetch", lambda code: Case.objects.filter(tracking_code=code).prefetch_related("events"), "ADU"
        )
