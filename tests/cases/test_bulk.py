"""Bulk actions: each case succeeds or fails on its own, with its own errors; at most 100 cases."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from backend.cases.models import Case
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db

BULK = """mutation($a: BulkAction!, $ids: [ID!]!, $who: ID) { bulkCaseAction(action: $a, caseIds: $ids, assigneeId: $who) {
  results { caseId case { status } errors { code field } } errors { code field } } }"""


@pytest.fixture
def ids(gql, resident, category, places):
    gql.sign_in_as(resident)
    found = []
    for code in ("jalan-rusak", "jalan-rusak", "drainase", "lampu-jalan"):  # three for DPUPR, one for Dishub
        found.append(
            gql(SUBMIT, {"input": complaint_input(category(code), *places["lais"])})["submitComplaint"]["case"]["id"]
        )
    return found


def test_each_case_on_its_own(gql, ids):
    gql.sign_in_as(staff_user("pupr.staf"))
    data = gql(BULK, {"a": "ACCEPT", "ids": [*ids, "garbage"]})["bulkCaseAction"]
    outcome = {r["caseId"]: (r["case"], r["errors"]) for r in data["results"]}
    assert data["errors"] == []
    assert [outcome[i][0] for i in ids[:3]] == [{"status": "accepted"}] * 3
    assert outcome[ids[3]] == (None, [{"code": "FORBIDDEN", "field": None}])
    assert outcome["garbage"] == (None, [{"code": "NOT_FOUND", "field": "caseId"}])
    assert Case.objects.filter(status="accepted").count() == 3


def test_bulk_assign(gql, ids):
    kabid = staff_user("pupr.kabid")
    gql.sign_in_as(kabid)
    data = gql(BULK, {"a": "ASSIGN", "ids": ids[:3], "who": to_global_id("User", staff_user("pupr.staf").pk)})[
        "bulkCaseAction"
    ]
    assert all(r["errors"] == [] for r in data["results"])
    assert set(Case.objects.exclude(assignee=None).values_list("assignee__username", flat=True)) == {"pupr.staf"}
    wrong = gql(BULK, {"a": "ASSIGN", "ids": ids[:1], "who": to_global_id("User", staff_user("dishub.staf").pk)})[
        "bulkCaseAction"
    ]
    assert wrong["results"][0]["errors"] == [{"code": "INVALID", "field": "assigneeId"}]


def test_limits(gql, ids):
    gql.sign_in_as(staff_user("pupr.staf"))
    too_many = gql(BULK, {"a": "CLAIM", "ids": [to_global_id("Case", n) for n in range(1000, 1101)]})
    assert too_many["bulkCaseAction"]["errors"] == [{"code": "INVALID", "field": "caseIds"}]
    assert gql(BULK, {"a": "CLAIM", "ids": []})["bulkCaseAction"]["errors"] == [{"code": "INVALID", "field": "caseIds"}]
    # The same case twice is done once.
    twice = gql(BULK, {"a": "CLAIM", "ids": [ids[0], ids[0]]})["bulkCaseAction"]["results"]
    assert len(twice) == 1 and twice[0]["errors"] == []
