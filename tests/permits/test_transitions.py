"""The permit transition table, exhaustively: every (state, action, role) either does what the table says or is
refused with a typed error, and a refusal changes nothing."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.models import Case, CaseEvent, CaseKind
from backend.cases.opening import open_case
from backend.cases.selectors import verify_chain
from backend.cases.services import transition
from backend.cases.workflow import CaseRole, case_roles
from backend.errors import DomainError
from backend.permits.catalogue import current_version
from backend.permits.models import PermitApplication, PermitReview, PermitType
from backend.permits.workflow import PERMIT, PermitStatus
from backend.regions.models import Agency
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db

ACTORS = {
    "applicant": "+6281200000001",
    "stranger": "+6281200000002",
    "handler": "ptsp.staf",
    "head": "ptsp.kadis",
    "reviewer": "pupr.staf",
    "colleague_elsewhere": "dishub.staf",
    "region_admin": "admin.muba",
    "foreign_admin": "admin.parepare",
    "system": None,
    "anonymous": "",
}


@pytest.fixture
def world(demo):
    User.objects.create(phone="+6281200000002")
    actors = {}
    for name, who in ACTORS.items():
        if who is None:
            actors[name] = None
        elif who == "":
            actors[name] = Actor.anonymous()
        else:
            user = User.objects.get(phone=who) if who.startswith("+") else staff_user(who)
            actors[name] = Actor.for_user(user)
    version = current_version(PermitType.objects.get(code="pbg"))
    return {"region": demo["muba"], "version": version, "actors": actors}


def new_case(world, status) -> Case:
    applicant = world["actors"]["applicant"].user
    with transaction.atomic():
        case = open_case(
            actor=world["actors"]["applicant"],
            fields={
                "kind": CaseKind.PERMIT,
                "region": world["region"],
                "agency": world["version"].handling_agency,
                "resident": applicant,
                "status": PermitStatus.SUBMITTED,
            },
            event_payload={},
        )
        application = PermitApplication.objects.create(
            region=world["region"], type_version=world["version"], applicant=applicant, case=case
        )
        dpupr = Agency.objects.get(region=world["region"], code="dpupr")
        PermitReview.objects.create(application=application, agency=dpupr, recommendation="approve")
    Case.objects.filter(pk=case.pk).update(status=status)  # test set-up: the state under test
    case.refresh_from_db()
    return case


def test_roles(world):
    case = new_case(world, PermitStatus.SUBMITTED)
    roles = {name: case_roles(case, actor) for name, actor in world["actors"].items()}
    assert roles["applicant"] == {CaseRole.RESIDENT, CaseRole.REPORTER}
    assert roles["handler"] == {CaseRole.RESIDENT, CaseRole.HANDLER}
    assert roles["head"] == {CaseRole.RESIDENT, CaseRole.HANDLER, CaseRole.SUPERVISOR}
    assert roles["reviewer"] == {CaseRole.RESIDENT, CaseRole.REVIEWER}
    assert roles["colleague_elsewhere"] == roles["stranger"] == roles["foreign_admin"] == {CaseRole.RESIDENT}


def expected(case, action, actor, status) -> str:
    move = PERMIT[action]
    if not case_roles(case, actor) & move.roles:
        return "forbidden"
    if status not in move.sources:
        return "invalid_state"
    if action == "approve" and status != PermitStatus.PAID:  # the guard: a fee type is approved once paid
        return "invalid_state"
    return "ok"


@pytest.mark.parametrize("status", list(PermitStatus))
def test_every_action_by_every_role_in_this_state(world, status):
    case = new_case(world, status)
    wrong = []
    for action, name in itertools.product(PERMIT, ACTORS):
        actor = world["actors"][name]
        move = PERMIT[action]
        want = expected(case, action, actor, status)
        before = CaseEvent.objects.filter(case=case).count()
        with transaction.atomic():
            try:
                transition(Case.objects.get(pk=case.pk), action, actor=actor, expected_version=case.version)
            except DomainError as refusal:
                outcome = str(refusal.code)
                after = Case.objects.get(pk=case.pk)
                assert (after.status, after.version) == (case.status, case.version)
                assert CaseEvent.objects.filter(case=case).count() == before
            else:
                outcome = "ok"
                after = Case.objects.get(pk=case.pk)
                assert after.status == (move.target or status) and after.version == case.version + (
                    not move.record_only
                )
                event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
                assert (event.type, event.visibility) == (move.event, move.visibility)
                assert verify_chain(after) is None
            transaction.set_rollback(True)
        if outcome != want:
            wrong.append((action, name, outcome, want))
    assert not wrong, wrong
