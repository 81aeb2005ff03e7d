"""The overdue sweep on a frozen clock, across a weekend and a national holiday: flagged once, escalated once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.cases.models import Audience, Case, OutboxMessage
from backend.cases.sla import sweep_overdue
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def at(y, m, d, h, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=WIB)


@pytest.fixture
def case(gql, resident, category, places):
    gql.sign_in_as(resident)
    gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])})
    # Due on Friday 14 August 2026 at 16:00; Monday the 17th is Independence Day.
    Case.objects.update(due_at=at(2026, 8, 14, 16))
    return Case.objects.get()


def events(case):
    return list(case.events.filter(type__in=["overdue", "escalated"]).values_list("type", flat=True))


def test_flagged_once_when_the_deadline_passes(case, settings):
    kabid = staff_user("pupr.kabid")
    assert sweep_overdue(now=at(2026, 8, 14, 15)).flagged == 0
    result = sweep_overdue(now=at(2026, 8, 15, 10))  # Saturday
    assert (result.flagged, result.escalated) == (1, 0)
    assert sweep_overdue(now=at(2026, 8, 15, 11)).flagged == 0  # a second run notifies no one again
    assert events(case) == ["overdue"]
    told = OutboxMessage.objects.filter(event__type="overdue")
    assert (Audience.USER, kabid.pk) in set(told.values_list("audience", "audience_id"))
    assert (Audience.AGENCY, case.agency_id) in set(told.values_list("audience", "audience_id"))
    assert not told.filter(audience=Audience.USER, audience_id=case.resident_id).exists()  # internal


def test_escalation_counts_working_time_only(case, settings):
    settings.SLA_ESCALATE_AFTER_WORKING_HOURS = 16  # two working days of eight hours
    admin = staff_user("admin.muba")
    sweep_overdue(now=at(2026, 8, 15, 10))
    # Monday 17 August is a holiday: no working time has passed since Friday 16:00.
    assert sweep_overdue(now=at(2026, 8, 17, 23)).escalated == 0
    # Tuesday 16:00: 8 working hours. Wednesday 16:00: 16.
    assert sweep_overdue(now=at(2026, 8, 18, 16, 30)).escalated == 0
    assert sweep_overdue(now=at(2026, 8, 19, 16)).escalated == 1
    assert sweep_overdue(now=at(2026, 8, 20, 9)).escalated == 0
    assert events(case) == ["overdue", "escalated"]
    escalation = OutboxMessage.objects.filter(event__type="escalated", audience=Audience.USER)
    assert admin.pk in set(escalation.values_list("audience_id", flat=True))


def test_paused_and_finished_cases_are_left_alone(case):
    Case.objects.update(sla_paused_at=at(2026, 8, 13, 9))
    assert sweep_overdue(now=at(2026, 8, 20, 9)).flagged == 0
    Case.objects.update(sla_paused_at=None, status="resolved")
    assert sweep_overdue(now=at(2026, 8, 20, 9)).flagged == 0
    assert events(case) == []


def test_the_beat_task_runs_the_sweep(case):
    from backend.cases.tasks import sweep_overdue_task

    assert sweep_overdue_task.delay().get() == {"flagged": 1, "escalated": 1}
