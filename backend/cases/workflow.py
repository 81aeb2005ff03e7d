"""The case core's workflow: who may do what to a case. Each kind of case (complaints, permits) declares its statuses,
its transition table — every action as `(from states, to state, roles, guard)` — and its end states, and registers
them here when its app is ready (`register`); the core knows no kind of its own.

This is data. `services.transition()` is the one function that enforces it; nothing else changes a case's status.
Roles are relative to the case: the reporter is the case's own resident, a handler works at the case's agency, a
supervisor supervises it, a region admin administers its region, `system` is a scheduled task, and `resident` is
anyone signed in (joining as a co-reporter). A kind may grant roles of its own (a permit's reviewers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from backend.cases.models import Visibility


class CaseRole(StrEnum):
    REPORTER = "reporter"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    REGION_ADMIN = "region_admin"
    SYSTEM = "system"
    RESIDENT = "resident"
    RECEIVER = "receiver"  # staff of the agency a case is being transferred to
    REVIEWER = "reviewer"  # staff of an agency asked for a permit's technical review


Guard = Callable[["object", dict], None]


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the status stays (a note, a rating, a moderation decision)
    roles: frozenset[CaseRole]
    event: str
    visibility: Visibility = Visibility.PUBLIC
    guard: Guard | None = None
    responds: bool = False  # the agency's first answer to the resident (for time to first response)
    resolves: bool = False  # the work ends here (for time to resolution and SLA compliance)
    # A record, not a change of the case (an internal note, a look at the whole NIK): the version stays, so no open
    # screen goes stale over it.
    record_only: bool = False


def table(*moves: Move) -> dict[str, Move]:
    return {m.action: m for m in moves}


@dataclass(frozen=True)
class Kind:
    statuses: type[StrEnum]
    table: dict[str, Move]
    terminal: frozenset[str]  # the end states
    clock_stopped: frozenset[str]  # the end states and those in which the SLA clock no longer runs
    roles: Callable[[object, object], set[CaseRole]] | None = None  # roles of the kind's own: (case, actor)


KINDS: dict[str, Kind] = {}
STATUS_LABELS: dict[str, object] = {}  # every kind's statuses, translated


def register(
    kind: str,
    *,
    statuses: type[StrEnum],
    labels: dict,
    moves: dict[str, Move],
    terminal: frozenset[str],
    clock_stopped: frozenset[str] = frozenset(),
    roles: Callable[[object, object], set[CaseRole]] | None = None,
) -> None:
    """Declare a kind of case (from its app's `ready()`)."""
    KINDS[kind] = Kind(statuses, moves, frozenset(terminal), frozenset(terminal | clock_stopped), roles)
    STATUS_LABELS.update(labels)


def clock_stopped() -> frozenset[str]:
    """Statuses, of any kind, in which a case's SLA clock no longer runs."""
    return frozenset().union(*(kind.clock_stopped for kind in KINDS.values()))


R = CaseRole


def case_roles(case, actor) -> frozenset[CaseRole]:
    """The roles an actor holds on a case (`actor` None is the system)."""
    if actor is None:
        return frozenset({R.SYSTEM})
    if not actor.is_authenticated:
        return frozenset()
    roles = {R.RESIDENT}
    if case.resident_id == actor.user.pk:
        roles.add(R.REPORTER)
    if case.agency_id is not None and actor.works_at(case.agency_id):
        roles.add(R.HANDLER)
        if actor.supervises(case.agency_id):
            roles.add(R.SUPERVISOR)
    if actor.administers(case.region_id):
        roles.add(R.REGION_ADMIN)
    if case.transfer_to_id is not None and actor.works_at(case.transfer_to_id):
        roles.add(R.RECEIVER)
    kind = KINDS.get(case.kind)
    if kind is not None and kind.roles is not None:
        roles |= kind.roles(case, actor)
    return frozenset(roles)
