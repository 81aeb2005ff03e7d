"""Dashboards on a known fixture (numbers worked out by hand), the measures transition() keeps, and access."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.cases.models import Case
from backend.complaints.models import Complaint
from tests.cases.test_work import act
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")
QUERY = """query($s: DateTime!, $u: DateTime!, $a: ID) { dashboard(region: "16.06", since: $s, until: $u, agency: $a) {
  received resolved open overdue slaCompliance averageRating firstResponseMedianHours firstResponseP90Hours
  resolutionMedianHours resolutionP90Hours transfersIn transfersOut
  byCategory { key received resolved open overdue } byArea { key received } } }"""


def at(day, hour):
    return dt.datetime(2026, 11, day, hour, tzinfo=WIB)


@pytest.fixture
def fixture(gql, resident, category, places):
    gql.sign_in_as(resident)
    codes = {}
    for name, code in (("a", "jalan-rusak"), ("b", "jalan-rusak"), ("c", "sampah"), ("d", "lampu-jalan")):
        codes[name] = gql(SUBMIT, {"input": complaint_input(category(code), *places["lais"])})["submitComplaint"][
            "case"
        ]["trackingCode"]
    cases = {name: Case.objects.get(tracking_code=code) for name, code in codes.items()}
    far = timezone.now() + dt.timedelta(days=30)
    measures = {
        "a": {
            "status": "closed",
            "first_response_seconds": 3600,
            "resolution_seconds": 8 * 3600,
            "met_sla": True,
            "rating": 5,
        },
        "b": {
            "status": "resolved",
            "first_response_seconds": 7200,
            "resolution_seconds": 40 * 3600,
            "met_sla": False,
            "rating": 3,
        },
    }
    for name, values in measures.items():
        rating = values.pop("rating")
        Case.objects.filter(pk=cases[name].pk).update(
            submitted_at=at(16, 9), first_response_at=at(16, 12), resolved_at=at(18, 10), **values
        )
        Complaint.objects.filter(pk=cases[name].pk).update(rating=rating)
    Case.objects.filter(pk=cases["c"].pk).update(submitted_at=at(17, 9), due_at=at(18, 16))  # open and overdue
    Case.objects.filter(pk=cases["d"].pk).update(submitted_at=at(19, 9), due_at=far)  # open, on time
    return cases


def board(gql, user="admin.muba", agency=None):
    gql.sign_in_as(staff_user(user))
    return gql(QUERY, {"s": at(16, 0).isoformat(), "u": at(21, 0).isoformat(), "a": agency})["dashboard"]


def test_region_numbers(gql, fixture):
    data = board(gql)
    assert (data["received"], data["resolved"], data["open"], data["overdue"]) == (4, 2, 2, 1)
    assert data["slaCompliance"] == 50.0 and data["averageRating"] == 4.0
    assert (data["firstResponseMedianHours"], data["firstResponseP90Hours"]) == (1.0, 2.0)
    assert (data["resolutionMedianHours"], data["resolutionP90Hours"]) == (8.0, 40.0)
    categories = {row["key"]: row for row in data["byCategory"]}
    assert categories["jalan-rusak"] == {"key": "jalan-rusak", "received": 2, "resolved": 2, "open": 0, "overdue": 0}
    assert categories["sampah"] == {"key": "sampah", "received": 1, "resolved": 0, "open": 1, "overdue": 1}
    assert data["byArea"] == [{"key": "16.06.02", "received": 4}]


def test_one_agency(gql, fixture):
    from graphql_relay import to_global_id

    dishub = fixture["d"].agency
    data = board(gql, agency=to_global_id("Agency", dishub.pk))
    assert (data["received"], data["resolved"], data["open"]) == (1, 0, 1)
    assert data["slaCompliance"] is None and data["firstResponseMedianHours"] is None


def test_transfers_in_and_out(gql, fixture):
    from graphql_relay import to_global_id

    from backend.regions.models import Agency

    dlh, dishub = (
        Agency.objects.get(region__code="16.06", code="dlh"),
        Agency.objects.get(region__code="16.06", code="dishub"),
    )
    case_id = to_global_id("Case", fixture["c"].pk)
    gql.sign_in_as(staff_user("admin"))
    gql(
        'mutation($c: ID!, $a: ID!) { transferCase(caseId: $c, agencyId: $a, reason: "Parkir") { errors { code } } }',
        {"c": case_id, "a": to_global_id("Agency", dishub.pk)},
    )
    act(gql, staff_user("dishub.staf"), "acceptTransfer", case_id)
    now = timezone.now()
    period = {"s": (now - dt.timedelta(hours=1)).isoformat(), "u": (now + dt.timedelta(hours=1)).isoformat()}
    gql.sign_in_as(staff_user("admin.muba"))
    into = gql(QUERY, {**period, "a": to_global_id("Agency", dishub.pk)})["dashboard"]
    out_of = gql(QUERY, {**period, "a": to_global_id("Agency", dlh.pk)})["dashboard"]
    assert (into["transfersIn"], into["transfersOut"]) == (1, 0)
    assert (out_of["transfersIn"], out_of["transfersOut"]) == (0, 1)


def test_transition_keeps_the_measures(gql, resident, category, places):
    gql.sign_in_as(resident)
    case_id = gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])})["submitComplaint"][
        "case"
    ]["id"]
    act(gql, staff_user("pupr.staf"), "acceptCase", case_id)
    case = Case.objects.get()
    assert case.first_response_at is not None and case.first_response_seconds is not None and case.resolved_at is None
    act(gql, staff_user("pupr.staf"), "resolveCase", case_id, note="Selesai ditambal.")
    case.refresh_from_db()
    assert case.resolved_at is not None and case.met_sla is True and case.resolution_seconds is not None


def test_for_the_regions_staff_only(gql, fixture):
    gql.sign_in_as(staff_user("admin.parepare"))
    response = gql.post(QUERY, {"s": at(16, 0).isoformat(), "u": at(21, 0).isoformat()}).json()
    assert response["data"]["dashboard"] is None and response["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert board(gql, user="pupr.staf")["received"] == 4  # any staff of the region (the command centre too)
