"""Replay after a reconnect (notifications.selectors.missed): what a subscriber's group was sent after the last
notification it saw, read from the outbox on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from backend.cases.models import Audience, Case, CaseEvent, OutboxMessage, OutboxStatus, Visibility
from backend.cases.services import transition
from backend.cases.timeline import append_event
from backend.errors import DomainError
from notifications.errors import ReplayErrorCode
from notifications.selectors import missed
from tests.helpers import staff_actor


@pytest.fixture
def two_cases(submit, category, places, resident):
    """Two complaints of the demo resident, both routed to DPUPR."""
    codes = [
        submit(category("jalan-rusak"), *places["lais"], idempotencyKey=key)["case"]["trackingCode"]
        for key in ("first", "second")
    ]
    return [Case.objects.get(tracking_code=code) for code in codes]


def move(case, action):
    transition(case, action, actor=staff_actor("pupr.staf"))
    return CaseEvent.objects.filter(case=case).order_by("-seq").first()


def kinds(messages):
    return [(m["case"], m["event_type"]) for m in messages]


def test_what_a_resident_missed_in_order_and_nobody_elses(two_cases, resident, other_resident):
    first, second = two_cases
    seen = move(first, "accept")
    move(first, "start")
    move(second, "accept")
    # Another resident's case moves too: not in this resident's group.
    other = Case.objects.create(
        kind=first.kind,
        tracking_code="ADU-2026-999999",
        region=first.region,
        agency=first.agency,
        status="routed",
        resident=other_resident,
    )
    move(other, "accept")
    messages = missed(Audience.USER, resident.pk, str(seen.pk))
    # The second case was routed a moment before the one seen: within the overlap, so it comes again.
    assert kinds(messages) == [(second.pk, "routed"), (first.pk, "work_started"), (second.pk, "accepted")]
    assert all(m["group"] == f"user.{resident.pk}" and m["id"] != str(seen.pk) for m in messages)


def test_rows_not_delivered_yet_are_replayed_too(two_cases, resident):
    first, _second = two_cases
    seen = move(first, "accept")
    with transaction.atomic():  # written, not yet handed on (a relay behind, Redis down)
        started = move(first, "start")
        OutboxMessage.objects.filter(event=started).update(status=OutboxStatus.PENDING)
    assert [m["id"] for m in missed(Audience.CASE, first.pk, str(seen.pk))] == [str(started.pk)]


def test_the_same_case_resumes_exactly_other_cases_with_an_overlap(two_cases, resident):
    first, second = two_cases
    now = timezone.now()

    def stamped(case, seconds_ago):
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            at = now - timedelta(seconds=seconds_ago)
            event = append_event(
                locked, type="reply_sent", actor_user=None, visibility=Visibility.PUBLIC, payload={}, at=at
            )
            OutboxMessage.objects.create(
                case=case,
                event=event,
                audience=Audience.USER,
                audience_id=resident.pk,
                event_type=event.type,
                created_at=at,
                status=OutboxStatus.SENT,
            )
        return event

    long_ago = stamped(second, 30)  # committed long before: surely seen
    just_before = stamped(second, 4)  # stamped before the one seen, maybe committed after it
    earlier_same_case = stamped(first, 2)
    seen = stamped(first, 1)
    replayed = [m["id"] for m in missed(Audience.USER, resident.pk, str(seen.pk))]
    assert str(just_before.pk) in replayed  # sent again: at least once
    assert str(long_ago.pk) not in replayed
    assert str(earlier_same_case.pk) not in replayed  # one case's events are in commit order: none again


@pytest.mark.parametrize("after", ["", "abc", "12a", "-5", "0", "1\x00", "１２", str(2**63), " "])
def test_what_is_not_a_notification_id_is_invalid(db, after):
    with pytest.raises(DomainError) as refused:
        missed(Audience.USER, 1, after)
    assert (refused.value.code, refused.value.field) == (ReplayErrorCode.INVALID, "after")


def test_unknown_too_old_or_too_much_is_unavailable(two_cases, resident, settings):
    first, _second = two_cases
    with pytest.raises(DomainError) as unknown:
        missed(Audience.USER, resident.pk, "987654321")
    assert unknown.value.code == ReplayErrorCode.REPLAY_UNAVAILABLE
    seen = move(first, "accept")
    move(first, "start")
    settings.GRAPHQL_WS_REPLAY_LIMIT = 1
    assert len(missed(Audience.CASE, first.pk, str(seen.pk))) == 1  # exactly the limit: replayed
    transition(first, "resolve", actor=staff_actor("pupr.staf"), payload={"note": "Sudah ditambal."})
    with pytest.raises(DomainError) as too_much:
        missed(Audience.CASE, first.pk, str(seen.pk))
    assert too_much.value.code == ReplayErrorCode.REPLAY_UNAVAILABLE
    settings.GRAPHQL_WS_REPLAY_LIMIT = 200
    settings.GRAPHQL_WS_REPLAY_MAX_AGE_SECONDS = 0
    with pytest.raises(DomainError) as too_old:
        missed(Audience.CASE, first.pk, str(seen.pk))
    assert too_old.value.code == ReplayErrorCode.REPLAY_UNAVAILABLE
