"""`transition()` against its table, exhaustively: every (state, action, role) either does what the table says or
is refused with a typed error and changes nothing. Plus the version check, the timeline chain and the outbox."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from backend.accounts.actor import Actor
from backend.accounts.models import Membership, Role, User
from backend.cases.models import Audience, Case, CaseEvent, CaseKind, CaseParticipant, OutboxMessage
from backend.cases.opening import open_case
from backend.cases.selectors import verify_chain
from backend.cases.services import transition
from backend.cases.workflow import CaseRole, case_roles
from backend.complaints.workflow import COMPLAINT, ComplaintStatus
from backend.errors import DomainError
from backend.regions.models import Agency
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db

ACTORS = [
    "reporter",
    "stranger",
    "handler",
    "supervisor",
    "colleague_elsewhere",
    "region_admin",
    "foreign_admin",
    "system",
    "anonymous",
]


@pytest.fixture
def world(demo):
    muba, parepare = demo["muba"], demo["parepare"]
    dpupr = Agency.objects.get(region=muba, code="dpupr")
    reporter = User.objects.get(phone="+6281200000001")
    stranger = User.objects.create(phone="+6281200000002")
    actors = {
        "reporter": Actor.for_user(reporter),
        "stranger": Actor.for_user(stranger),
        "handler": Actor.for_user(staff_user("pupr.staf")),
        "supervisor": Actor.for_user(staff_user("pupr.kabid")),
        "colleague_elsewhere": Actor.for_user(staff_user("dishub.staf")),
        "region_admin": Actor.for_user(staff_user("admin.muba")),
        "foreign_admin": Actor.for_user(staff_user("admin.parepare")),
        "system": None,
        "anonymous": Actor.anonymous(),
    }
    assert Membership.objects.filter(user__username="pupr.kabid", role=Role.AGENCY_SUPERVISOR).exists()
    return {"region": muba, "other_region": parepare, "agency": dpupr, "reporter": reporter, "actors": actors}


def new_case(world, status=ComplaintStatus.SUBMITTED) -> Case:
    with transaction.atomic():
        case = open_case(
            actor=world["actors"]["reporter"],
            fields={
                "kind": CaseKind.COMPLAINT,
                "region": world["region"],
                "agency": world["agency"],
                "resident": world["reporter"],
                "status": ComplaintStatus.SUBMITTED,
            },
            event_payload={},
        )
    if status != ComplaintStatus.SUBMITTED:
        Case.objects.filter(pk=case.pk).update(status=status)  # test set-up: put the case in the state under test
        case.refresh_from_db()
    return case


def test_roles_are_what_the_fixture_says(world):
    case = new_case(world)
    roles = {name: case_roles(case, actor) for name, actor in world["actors"].items()}
    assert roles["reporter"] == {CaseRole.RESIDENT, CaseRole.REPORTER}
    assert roles["handler"] == {CaseRole.RESIDENT, CaseRole.HANDLER}
    assert roles["supervisor"] == {CaseRole.RESIDENT, CaseRole.HANDLER, CaseRole.SUPERVISOR}
    assert roles["colleague_elsewhere"] == roles["stranger"] == roles["foreign_admin"] == {CaseRole.RESIDENT}
    assert roles["region_admin"] == {CaseRole.RESIDENT, CaseRole.REGION_ADMIN}
    assert roles["system"] == {CaseRole.SYSTEM}
    assert roles["anonymous"] == frozenset()


@pytest.mark.parametrize("status", list(ComplaintStatus))
def test_every_action_by_every_role_in_this_state(world, status):
    case = new_case(world, status)
    outcomes = []
    for action, actor_name in itertools.product(COMPLAINT, ACTORS):
        move = COMPLAINT[action]
        actor = world["actors"][actor_name]
        allowed = bool(case_roles(case, actor) & move.roles)
        expected = "ok" if allowed and status in move.sources else ("forbidden" if not allowed else "invalid_state")
        before_events = CaseEvent.objects.filter(case=case).count()
        with transaction.atomic():
            fresh = Case.objects.get(pk=case.pk)
            try:
                transition(fresh, action, actor=actor, expected_version=case.version)
            except DomainError as refusal:
                outcome = str(refusal.code)
                after = Case.objects.get(pk=case.pk)
                assert (after.status, after.version) == (case.status, case.version)
                assert CaseEvent.objects.filter(case=case).count() == before_events
            else:
                outcome = "ok"
                after = Case.objects.get(pk=case.pk)
                assert after.status == (move.target or status)
                assert after.version == case.version + (not move.record_only)  # a record (a note) changes no version
                event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
                assert (event.type, event.visibility) == (move.event, move.visibility)
                assert event.payload["from"] == status and event.payload["action"] == action
                assert verify_chain(after) is None
            transaction.set_rollback(True)
        outcomes.append((action, actor_name, outcome, expected))
    wrong = [o for o in outcomes if o[2] != o[3]]
    assert not wrong, wrong


def test_a_stale_version_is_a_conflict(world):
    case = new_case(world, ComplaintStatus.ROUTED)
    handler = world["actors"]["handler"]
    transition(case, "accept", actor=handler, expected_version=1)
    assert case.version == 2 and case.status == ComplaintStatus.ACCEPTED
    with pytest.raises(DomainError) as refused:
        transition(Case.objects.get(pk=case.pk), "start", actor=handler, expected_version=1)
    assert refused.value.code == "conflict" and refused.value.params == {"current_version": 2}
    assert Case.objects.get(pk=case.pk).status == ComplaintStatus.ACCEPTED


def test_unknown_action(world):
    with pytest.raises(DomainError) as refused:
        transition(new_case(world), "teleport", actor=None)
    assert refused.value.code == "unknown_action"


def test_reporter_reopens_once_then_staff_decide(world):
    case = new_case(world, ComplaintStatus.RESOLVED)
    reporter, supervisor = world["actors"]["reporter"], world["actors"]["supervisor"]
    transition(case, "reopen", actor=reporter, payload={"reason": "Masih rusak"})
    transition(case, "resolve", actor=world["actors"]["handler"])
    with pytest.raises(DomainError) as refused:
        transition(case, "reopen", actor=reporter, payload={"reason": "Masih juga"})
    assert refused.value.code == "already_done"
    transition(case, "staff_reopen", actor=supervisor, payload={"reason": "Dicek ulang"})
    assert case.status == ComplaintStatus.REOPENED


def test_rating_once(world):
    case = new_case(world, ComplaintStatus.CLOSED)
    transition(case, "rate", actor=world["actors"]["reporter"], payload={"rating": 4})
    with pytest.raises(DomainError) as refused:
        transition(case, "rate", actor=world["actors"]["reporter"], payload={"rating": 5})
    assert refused.value.code == "already_done"


def test_timeline_chain_detects_tampering(world):
    case = new_case(world, ComplaintStatus.ROUTED)
    transition(case, "accept", actor=world["actors"]["handler"])
    transition(case, "start", actor=world["actors"]["handler"])
    assert verify_chain(case) is None
    # Tamper below the ORM's guard, as someone with database access would.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET payload = %s WHERE case_id = %s AND seq = 2", ['{"forged": true}', case.pk]
        )
    broken = verify_chain(case)
    assert broken is not None and broken.seq == 2 and "hash" in broken.reason


def test_events_cannot_be_changed_or_deleted_through_the_orm(world):
    case = new_case(world)
    event = case.events.get()
    event.type = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).update(type="forged")
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).delete()


def test_outbox_rows_for_every_audience(world):
    case = new_case(world, ComplaintStatus.ROUTED)
    co_reporter = User.objects.create(phone="+6281200000003")
    CaseParticipant.objects.create(case=case, user=co_reporter)
    case.assignee = staff_user("pupr.staf")
    Case.objects.filter(pk=case.pk).update(assignee=case.assignee)
    OutboxMessage.objects.all().delete()
    transition(case, "accept", actor=world["actors"]["supervisor"])
    rows = set(OutboxMessage.objects.values_list("audience", "audience_id", "event_type"))
    assert rows == {
        (Audience.USER, world["reporter"].pk, "accepted"),
        (Audience.USER, co_reporter.pk, "accepted"),
        (Audience.USER, case.assignee.pk, "accepted"),
        (Audience.AGENCY, world["agency"].pk, "accepted"),
        (Audience.CASE, case.pk, "accepted"),
        (Audience.REGION, case.region_id, "accepted"),  # the region's integrations: their webhooks
    }
    # Internal events reach staff only (and the case's watchers, each checked when it arrives), and nobody is told
    # of their own action.
    OutboxMessage.objects.all().delete()
    transition(case, "publish", actor=world["actors"]["handler"])
    assert set(OutboxMessage.objects.values_list("audience", "audience_id")) == {
        (Audience.AGENCY, world["agency"].pk),
        (Audience.CASE, case.pk),
        (Audience.REGION, case.region_id),
    }


def test_verify_timelines_command(world, capsys):
    from django.core.management import CommandError, call_command

    case = new_case(world, ComplaintStatus.ROUTED)
    transition(case, "accept", actor=world["actors"]["handler"])
    call_command("verify_timelines")
    assert "1 timelines checked, 0 broken" in capsys.readouterr().out
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_caseevent SET type = 'forged' WHERE case_id = %s AND seq = 1", [case.pk])
    with pytest.raises(CommandError):
        call_command("verify_timelines", case.tracking_code)
    assert (
        f"{case.tracking_code} (region {case.region_id}): event 1 content does not match its hash"
        in capsys.readouterr().out
    )


SIGNED_IN = {"reporter", "stranger", "handler", "supervisor", "colleague_elsewhere", "region_admin", "foreign_admin"}
WHO_MAY = {
    "route": {"system"},
    "accept": {"handler", "supervisor"},
    "start": {"handler", "supervisor"},
    "resolve": {"handler", "supervisor"},
    "confirm": {"reporter"},
    "auto_close": {"system"},
    "reopen": {"reporter"},
    "staff_reopen": {"supervisor", "region_admin"},
    "reject": {"handler", "supervisor"},
    "mark_duplicate": {"handler", "supervisor"},
    "join": SIGNED_IN,
    "absorb_reporters": {"system"},
    "publish": {"handler", "supervisor", "region_admin"},
    "unpublish": {"handler", "supervisor", "region_admin"},
    "rate": {"reporter"},
    "claim": {"handler", "supervisor"},
    "assign": {"handler", "supervisor"},
    "note": {"handler", "supervisor", "region_admin"},
    "reply": {"handler", "supervisor"},
    "request_info": {"handler", "supervisor"},
    "provide_info": {"reporter"},
    "transfer": {"handler", "supervisor"},
    "accept_transfer": set(),  # staff of the agency a case is offered to: nobody here, nothing is on offer
    "decline_transfer": set(),
    "forward": {"region_admin"},
    "survey": {"reporter"},
    "mark_overdue": {"system"},
    "escalate": {"system"},
}


def test_the_table_grants_what_the_product_means(world):
    """A second statement of intent, written by hand, so the table itself is checked too."""
    case = new_case(world)
    granted = {
        action: {name for name, actor in world["actors"].items() if case_roles(case, actor) & move.roles}
        for action, move in COMPLAINT.items()
    }
    assert granted == WHO_MAY


@pytest.mark.django_db(transaction=True)
def test_tracking_codes_are_unique_under_concurrency(demo):
    """Eight threads, each on its own database connection, take 25 numbers each at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections
    from django.utils import timezone

    from backend.cases.opening import allocate_tracking_code

    if connection.vendor != "postgresql":
        pytest.skip("needs a database server: SQLite's test database lives in one connection")
    region = demo["muba"]

    def take(_worker):
        try:
            return [
                allocate_tracking_code(region=region, kind=CaseKind.COMPLAINT, at=timezone.now()) for _ in range(25)
            ]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [code for batch in pool.map(take, range(8)) for code in batch]
    assert len(codes) == 200 and len(set(codes)) == 200
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert numbers == list(range(1, 201))
