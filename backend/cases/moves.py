"""A move of a case, checked and made on the instance: the one place the kind's table is applied (by transition()
and by the first move of an opening)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import (
    Case,
)
from backend.cases.workflow import KINDS, STATUS_LABELS, case_roles
from backend.errors import DomainError
from backend.regions import calendar


def _measure(case: Case, move, now: datetime) -> None:
    """Keep the service measures as they happen: the first answer, and the end of the work (working time from
    submission, the time spent waiting on the resident left out; whether the deadline was met)."""
    if case.submitted_at is None:
        return
    if move.responds and case.first_response_at is None:
        case.first_response_at = now
        case.first_response_seconds = int(
            calendar.working_time_between(case.region, case.submitted_at, now).total_seconds()
        )
    if move.resolves:
        worked = calendar.working_time_between(case.region, case.submitted_at, now).total_seconds()
        case.resolved_at = now
        case.resolution_seconds = max(0, int(worked) - case.sla_paused_seconds)
        case.met_sla = case.due_at is None or now <= case.due_at


def move_of(case: Case, action: str):
    move = KINDS[case.kind].table.get(action)
    if move is None:
        raise DomainError(CaseErrorCode.UNKNOWN_ACTION, _("This action does not exist for this kind of case."))
    return move


def open_moves(case: Case, actor: Actor | None) -> frozenset[str]:
    """The actions the actor's roles allow on the case in its state (what a screen offers). The move's guard, which
    may need the action's input, still decides when the action is taken."""
    roles = case_roles(case, actor)
    return frozenset(
        action for action, move in KINDS[case.kind].table.items() if case.status in move.sources and roles & move.roles
    )


def apply_move(case: Case, action: str, move, *, actor: Actor | None, payload: dict, changes: dict | None, now) -> dict:
    """Check the move against the case as it is (the actor's roles, the state, the guard), then make it on the
    instance: status, `changes`, measures, version. Returns the payload of the move's event."""
    if not case_roles(case, actor) & move.roles:
        raise DomainError(CaseErrorCode.FORBIDDEN, _("You may not do this on this case."))
    if case.status not in move.sources:
        raise DomainError(
            CaseErrorCode.INVALID_STATE,
            _("This cannot be done while the case is %(status)s.")
            % {"status": STATUS_LABELS.get(case.status, case.status)},
        )
    if move.guard is not None:
        move.guard(case, payload)
    before = case.status
    if move.target is not None:
        case.status = move.target
    for name, value in (changes or {}).items():
        setattr(case, name, value)
    _measure(case, move, now)
    if not move.record_only:
        case.version += 1
    return {"action": action, "from": before, "to": case.status, **payload}
