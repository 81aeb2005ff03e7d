"""Waiting on the resident (the clock pauses and resumes with the time it had left), transfers between agencies with
accept, decline and the hop limit, and forwarding to an outside body."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from backend.cases.models import Case
from backend.regions import calendar
from backend.regions.models import Agency
from tests.cases.test_work import act
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


def agency(code, region="16.06"):
    found = Agency.objects.get(region__code=region, code=code)
    return to_global_id("Agency", found.pk)


def mutate(gql, user, name, arguments: dict, types: dict):
    gql.sign_in_as(user)
    declared = ", ".join(f"${k}: {types[k]}" for k in arguments)
    passed = ", ".join(f"{k}: ${k}" for k in arguments)
    query = (
        f"mutation({declared}) {{ {name}({passed}) {{ case {{ status agency {{ code }} }} errors {{ code field }} }} }}"
    )
    return gql(query, arguments)[name]


def test_the_clock_pauses_while_waiting_on_the_resident(gql, road_complaint_id, resident):
    pupr = staff_user("pupr.staf")
    act(gql, pupr, "acceptCase", road_complaint_id)
    before = Case.objects.get()
    asked = mutate(
        gql,
        pupr,
        "requestInformation",
        {"caseId": road_complaint_id, "question": "Di depan nomor berapa?"},
        {"caseId": "ID!", "question": "String!"},
    )
    assert asked["errors"] == [] and asked["case"]["status"] == "info_requested"
    paused = Case.objects.get()
    assert paused.sla_paused_at is not None and paused.sla_remaining_seconds > 0
    gql.sign_in_as(pupr)
    states = gql("{ staffQueue { edges { node { slaState } } } }")["staffQueue"]["edges"]
    assert [s["node"]["slaState"] for s in states] == ["PAUSED"]
    # Two days pass before the resident answers.
    Case.objects.filter(pk=paused.pk).update(sla_paused_at=paused.sla_paused_at - timedelta(days=2))
    other = mutate(
        gql,
        staff_user("pupr.kabid"),
        "provideInformation",
        {"caseId": road_complaint_id, "answer": "x"},
        {"caseId": "ID!", "answer": "String!"},
    )
    assert other["errors"][0]["code"] == "NOT_FOUND"  # only the reporter answers
    answered = mutate(
        gql,
        resident,
        "provideInformation",
        {"caseId": road_complaint_id, "answer": "Depan SD Negeri 3."},
        {"caseId": "ID!", "answer": "String!"},
    )
    assert answered["errors"] == [] and answered["case"]["status"] == "in_progress"
    resumed = Case.objects.get()
    waited = calendar.working_time_between(resumed.region, paused.sla_paused_at - timedelta(days=2), timezone.now())
    assert resumed.sla_paused_at is None and abs(resumed.sla_paused_seconds - waited.total_seconds()) < 60
    left = calendar.working_time_between(resumed.region, timezone.now(), resumed.due_at)
    assert abs(left.total_seconds() - paused.sla_remaining_seconds) < 60
    # No real time passed in the test, so the deadline is where it was: the wait itself was not charged. Measured in
    # working time: a close-of-business deadline pushed by the test's own milliseconds is the next morning's opening.
    moved = calendar.working_time_between(resumed.region, *sorted([before.due_at, resumed.due_at]))
    assert moved.total_seconds() < 60


def test_transfer_accepted(gql, road_complaint_id):
    due = Case.objects.get().due_at
    offered = mutate(
        gql,
        staff_user("pupr.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency("dishub"), "reason": "Lampu lalu lintas"},
        {"caseId": "ID!", "agencyId": "ID!", "reason": "String!"},
    )
    assert offered["errors"] == [] and offered["case"]["status"] == "transfer_pending"
    gql.sign_in_as(staff_user("dishub.staf"))
    incoming = gql("{ staffQueue(filter: {incoming: true}) { edges { node { trackingCode } } } }")["staffQueue"]
    assert len(incoming["edges"]) == 1
    # Only the agency it is offered to may take it.
    assert act(gql, staff_user("pupr.staf"), "acceptTransfer", road_complaint_id)["errors"][0]["code"] == "FORBIDDEN"
    assert (
        act(gql, staff_user("pupr.parepare"), "acceptTransfer", road_complaint_id)["errors"][0]["code"] == "NOT_FOUND"
    )
    taken = act(gql, staff_user("dishub.staf"), "acceptTransfer", road_complaint_id)
    assert taken["errors"] == [] and taken["case"]["status"] == "routed"
    case = Case.objects.get()
    assert case.agency.code == "dishub" and case.transfer_to is None and case.due_at == due  # the clock ran on
    events = [e["type"] for e in taken["case"]["timeline"]]
    assert events[-2:] == ["transfer_offered", "transfer_accepted"]


def test_transfer_declined_comes_back(gql, road_complaint_id):
    mutate(
        gql,
        staff_user("pupr.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency("dlh"), "reason": "Bukan jalan"},
        {"caseId": "ID!", "agencyId": "ID!", "reason": "String!"},
    )
    declined = mutate(
        gql,
        staff_user("admin"),
        "declineTransfer",
        {"caseId": road_complaint_id, "reason": "Ini jalan kabupaten"},
        {"caseId": "ID!", "reason": "String!"},
    )
    assert declined["errors"] == [] and declined["case"] == {"status": "routed", "agency": {"code": "dpupr"}}
    assert Case.objects.get().transfer_to is None


def test_hop_limit_sends_the_case_to_triage(gql, road_complaint_id, settings):
    settings.CASE_TRANSFER_HOP_LIMIT = 1
    types = {"caseId": "ID!", "agencyId": "ID!", "reason": "String!"}
    mutate(
        gql,
        staff_user("pupr.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency("dishub"), "reason": "a"},
        types,
    )
    act(gql, staff_user("dishub.staf"), "acceptTransfer", road_complaint_id)
    second = mutate(
        gql,
        staff_user("dishub.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency("dlh"), "reason": "b"},
        types,
    )
    assert second["errors"] == []
    case = Case.objects.get()
    assert case.transfer_to.code == "diskominfo" and case.transfer_hops == 2
    assert case.events.get(type="transfer_offered", payload__hop=2).payload["hop_limit_reached"] is True


@pytest.mark.parametrize(("target", "region"), [("dpupr", "16.06"), ("dpupr", "73.72")])
def test_transfer_targets_are_checked(gql, road_complaint_id, target, region):
    result = mutate(
        gql,
        staff_user("pupr.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency(target, region), "reason": "x"},
        {"caseId": "ID!", "agencyId": "ID!", "reason": "String!"},
    )
    assert result["errors"] == [{"code": "INVALID", "field": "agencyId"}]


def test_forward_to_an_outside_body(gql, road_complaint_id):
    types = {"caseId": "ID!", "body": "String!", "reference": "String"}
    values = {"caseId": road_complaint_id, "body": "PLN UP3 Sekayu", "reference": "PLN-2026-889"}
    assert mutate(gql, staff_user("pupr.kabid"), "forwardCase", values, types)["errors"][0]["code"] == "FORBIDDEN"
    done = mutate(gql, staff_user("admin.muba"), "forwardCase", values, types)
    assert done["errors"] == [] and done["case"]["status"] == "forwarded"
    assert Case.objects.get().closed_at is not None


def test_the_agency_offered_a_case_is_told(gql, road_complaint_id):
    from backend.cases.models import Audience, OutboxMessage

    dishub = Agency.objects.get(region__code="16.06", code="dishub")
    mutate(
        gql,
        staff_user("pupr.staf"),
        "transferCase",
        {"caseId": road_complaint_id, "agencyId": agency("dishub"), "reason": "x"},
        {"caseId": "ID!", "agencyId": "ID!", "reason": "String!"},
    )
    assert OutboxMessage.objects.filter(
        event__type="transfer_offered", audience=Audience.AGENCY, audience_id=dishub.pk
    ).exists()
