"""Writes of the Case core. `transition()` is the only way a case changes state (DESIGN.md, "the one line")."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import writes
from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases import outbox
from backend.cases.errors import CaseErrorCode, RejectReason
from backend.cases.models import (
    TRACKING_PREFIX,
    Audience,
    Case,
    CaseEvent,
    CaseParticipant,
    OutboxMessage,
    TrackingSequence,
    Visibility,
)
from backend.cases.timeline import GENESIS, append_event, chained_event
from backend.cases.workflow import KINDS, STATUS_LABELS, case_roles
from backend.errors import DomainError
from backend.regions import calendar
from backend.regions.models import Agency


def allocate_tracking_code(*, region, kind: str, at: datetime) -> str:
    """The next `ADU-YYYY-NNNNNN` of the region (year in the region's time zone), in one statement: an upsert of the
    counter row that returns the new value, so two submissions never get the same number. Inside a transaction the
    counter row stays locked until that transaction ends, which serialises every submission of the region behind
    it. Codes may have gaps (a submission that fails after taking its number), never clashes."""
    (number,) = _take_from_counter(region=region, kind=kind, at=at, count=1, quick_commit=False)
    return _code(kind, at.astimezone(region.tz).year, number)


def _code(kind: str, year: int, number: int) -> str:
    return f"{TRACKING_PREFIX[kind]}-{year}-{number:06d}"


def _take_from_counter(*, region, kind: str, at: datetime, count: int, quick_commit: bool) -> range:
    """`count` consecutive numbers of the region's counter for `kind` and the year of `at`, in one upsert."""
    table = connection.ops.quote_name(TrackingSequence._meta.db_table)
    # Alone in its transaction, the statement's commit need not wait for the disk: a case written with one of the
    # numbers commits after it, waiting for the log up to its own commit, which holds the counter's. A crash before
    # that loses the numbers with the cases that used them, and they are handed out again: no clash.
    quick = ", set_config('synchronous_commit', 'off', true)" if quick_commit else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_id, prefix, year, last_value) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (region_id, prefix, year) "
            f"DO UPDATE SET last_value = {table}.last_value + EXCLUDED.last_value RETURNING last_value{quick}",
            [region.pk, TRACKING_PREFIX[kind], at.astimezone(region.tz).year, count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


# Tracking numbers taken ahead by this process, per (region, prefix, year): a block lasts about BLOCK_SECONDS at the
# rate the previous one went, between 1 (a quiet region: codes in submission order, as one statement each gives
# them) and BLOCK_MAX (a busy one: one statement per BLOCK_MAX submissions). Codes from two processes interleave
# within a block's time, and a process that stops leaves the rest of its blocks as gaps.
BLOCK_SECONDS = 0.5
BLOCK_MAX = 64


@dataclass
class _Block:
    numbers: Iterator[int]
    size: int
    taken_at: float


_blocks: dict[tuple[int, str, int], _Block] = {}
_blocks_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: _blocks.clear())  # a child must not hand out its parent's numbers


def _next_tracking_code(region, kind: str, at: datetime) -> str:
    """A code for a case about to be opened: from this process's block of the region's numbers outside a
    transaction; inside one (whose rollback would give the numbers back to the counter while the block kept them),
    straight from the counter."""
    if connection.in_atomic_block:
        return allocate_tracking_code(region=region, kind=kind, at=at)
    year = at.astimezone(region.tz).year
    key = (region.pk, TRACKING_PREFIX[kind], year)
    with _blocks_lock:
        block = _blocks.get(key)
        number = next(block.numbers, None) if block is not None else None
        if number is None:
            now = time.monotonic()
            size = 1
            if block is not None:  # used up: size the next one on the rate this one went
                rate = block.size / max(now - block.taken_at, 1e-3)
                size = max(1, min(BLOCK_MAX, round(rate * BLOCK_SECONDS)))
            numbers = iter(_take_from_counter(region=region, kind=kind, at=at, count=size, quick_commit=True))
            block = _blocks[key] = _Block(numbers, size, now)
            number = next(block.numbers)
    return _code(kind, year, number)


class AlreadyOpened(Exception):
    """open_case found a case the same resident opened with the same idempotency key: nothing was written."""

    def __init__(self, case_id: int):
        super().__init__(case_id)
        self.case_id = case_id


class Outdated(Exception):
    """What an opening relied on (`still`: a region as the process cached it) has changed: nothing was written."""


def _same_key(case: Case) -> int | None:
    return (
        Case.objects.filter(resident_id=case.resident_id, idempotency_key=case.idempotency_key)
        .values_list("pk", flat=True)
        .first()
    )


def _opening_guard(case: Case, still: tuple[str, list] | None) -> tuple[str, list] | None:
    """What the writing statement checks before it writes an opening (PostgreSQL): no earlier case of the resident
    with the same idempotency key, and `still`."""
    parts, params = [], []
    if case.idempotency_key:
        table = connection.ops.quote_name(Case._meta.db_table)
        parts.append(f"NOT EXISTS (SELECT FROM {table} WHERE resident_id = %s AND idempotency_key = %s)")
        params += [case.resident_id, case.idempotency_key]
    if still is not None:
        parts.append(still[0])
        params += still[1]
    return (" AND ".join(parts), params) if parts else None


def _audiences(
    case: Case,
    visibility: str,
    actor: Actor | None,
    *,
    new_case: bool = False,
    notify: Iterable[int] = (),
    previous_agency_id: int | None = None,
) -> list[tuple[str, int]]:
    """Who hears of an event: everyone watching the case (live only), the reporter and co-reporters (public events),
    the assignee, the agency's queue (and the queue the case just left, or was offered to), and the users a move
    names besides (`notify`: supervisors told of an overdue case, admins of an escalation)."""
    acting_user = actor.user.pk if actor is not None and actor.user is not None else None
    users = set()
    if visibility == Visibility.PUBLIC:
        users.add(case.resident_id)
        if not new_case:  # a case created a moment ago has no co-reporters yet
            users.update(CaseParticipant.objects.filter(case=case).values_list("user_id", flat=True))
    if case.assignee_id:
        users.add(case.assignee_id)
    users.update(notify)
    users.discard(acting_user)
    audiences = [(Audience.USER, user_id) for user_id in sorted(users)]
    # The handler, an agency offered the case, and the one it just left.
    agencies = {case.agency_id, case.transfer_to_id, previous_agency_id} - {None}
    audiences.extend((Audience.AGENCY, agency_id) for agency_id in sorted(agencies))
    if not new_case:  # nobody can be watching a case created a moment ago
        audiences.append((Audience.CASE, case.pk))
    return audiences


def _outbox_rows(case: Case, event: CaseEvent, audiences: list[tuple[str, int]]) -> list[OutboxMessage]:
    return [
        OutboxMessage(case=case, event=event, audience=audience, audience_id=audience_id, event_type=event.type)
        for audience, audience_id in audiences
    ]


def _write_outbox(
    case: Case,
    event: CaseEvent,
    actor: Actor | None,
    *,
    notify: Iterable[int] = (),
    previous_agency_id: int | None = None,
) -> None:
    """One row per audience of the event (_audiences), delivered after commit (notifications.delivery)."""
    audiences = _audiences(case, event.visibility, actor, notify=notify, previous_agency_id=previous_agency_id)
    rows = OutboxMessage.objects.bulk_create(_outbox_rows(case, event, audiences))
    outbox.schedule(rows)


@dataclass(frozen=True)
class FirstMove:
    """A move the system makes on a case as it is opened (a complaint is routed at once). It is checked against the
    kind's transition table like any other move, and written with the opening."""

    action: str
    changes: dict
    payload: dict


def open_case(
    *,
    actor: Actor,
    fields: dict,
    event_payload: dict,
    then: FirstMove | None = None,
    details: Callable[[Case], Iterable] | None = None,
    still: tuple[str, list] | None = None,
) -> Case:
    """Create a case in its first state with its first timeline event (and `then`, a first move by the system), their
    outbox rows and the kind's own rows (`details(case)`: the complaint, its photos), all or nothing; or raise
    AlreadyOpened when the resident opened one with the same `idempotency_key` before. On PostgreSQL, outside a
    transaction, that is one statement and no transaction of its own: the tracking number and the keys come from
    this process's blocks (_next_tracking_code, writes.take_keys; a statement now and then refills them), and the
    statement checks for that earlier case, writes every row and tells the outbox relay (backend.writes). Elsewhere,
    the look-up, the tracking number and then one transaction. Inside a caller's transaction the region's tracking
    counter stays locked until it ends: pass `tracking_code` in `fields`, allocated before (allocate_tracking_code).
    `still` (PostgreSQL only): an SQL condition on data the caller read from a cache (regions.selectors.
    still_current), checked by the writing statement: if it no longer holds, nothing is written and Outdated is
    raised."""
    now = timezone.now()
    case = Case(**{"submitted_at": now, **fields})
    entries = [
        {
            "type": "submitted",
            "actor_user": actor.user,
            "visibility": Visibility.PUBLIC,
            "payload": {"to": case.status, **event_payload},
        }
    ]
    audiences = [_audiences(case, Visibility.PUBLIC, actor, new_case=True)]
    if then is not None:
        move = _move(case, then.action)
        payload = _apply(case, then.action, move, actor=None, payload=dict(then.payload), changes=then.changes, now=now)
        entries.append({"type": move.event, "actor_user": None, "visibility": move.visibility, "payload": payload})
        audiences.append(_audiences(case, move.visibility, None, new_case=True))
    if writes.batched() and not connection.in_atomic_block:
        # The look-up of an earlier case is part of the writing statement (a retry costs a number: a gap).
        guard = _opening_guard(case, still)
    else:
        if still is not None and not writes.batched():
            raise ValueError("checking what an opening relied on takes PostgreSQL")
        guard = still
        earlier = _same_key(case) if case.idempotency_key else None
        if earlier is not None:
            raise AlreadyOpened(earlier)
    if not case.tracking_code:
        case.tracking_code = (
            _next_tracking_code(case.region, case.kind, now)
            if writes.batched()
            else allocate_tracking_code(region=case.region, kind=case.kind, at=now)
        )
    event_ids = None
    if writes.batched():
        keys = writes.take_keys({Case: 1, CaseEvent: len(entries)})
        case.pk, event_ids = keys[Case][0], keys[CaseEvent]
    with writes.insert_batch(guard) as batch:
        batch.add([case])
        events, prev_hash = [], GENESIS
        for seq, entry in enumerate(entries, start=1):
            events.append(chained_event(case, seq=seq, prev_hash=prev_hash, at=now, **entry))
            prev_hash = events[-1].hash
        if event_ids is not None:
            for event, pk in zip(events, event_ids, strict=True):
                event.pk = pk
        batch.add(events)
        rows = batch.add(
            [row for event, who in zip(events, audiences, strict=True) for row in _outbox_rows(case, event, who)]
        )
        if details is not None:
            for model_rows in _by_model(details(case)):
                batch.add(model_rows)
        outbox.schedule(rows, batch=batch)
    if batch.refused:
        earlier = _same_key(case) if case.idempotency_key else None
        if earlier is not None:
            raise AlreadyOpened(earlier)
        raise Outdated
    return case


def _by_model(rows: Iterable) -> list[list]:
    """Rows grouped by model, in the order each model first appears."""
    groups: dict[type, list] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    return list(groups.values())


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


def _move(case: Case, action: str):
    move = KINDS[case.kind].table.get(action)
    if move is None:
        raise DomainError(CaseErrorCode.UNKNOWN_ACTION, _("This action does not exist for this kind of case."))
    return move


def _apply(case: Case, action: str, move, *, actor: Actor | None, payload: dict, changes: dict | None, now) -> dict:
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
    case.version += 1
    return {"action": action, "from": before, "to": case.status, **payload}


def transition(
    case: Case,
    action: str,
    *,
    actor: Actor | None,
    expected_version: int | None = None,
    payload: dict | None = None,
    changes: dict | None = None,
    notify: Iterable[int] = (),
) -> Case:
    """Apply `action` to the case as the kind's table says, or refuse with a typed DomainError.

    Checks, in order: the action exists for the kind, the client's `expected_version` is current (CONFLICT), the
    actor holds a role the move allows (FORBIDDEN), the case is in a state the move starts from (INVALID_STATE),
    and the move's guard. Then, in one transaction: the status and `changes` are saved with the version bumped,
    an event is appended to the timeline, and outbox rows are written for every audience. `actor` None is the
    system (scheduled tasks). Returns the updated case; the caller's instance is refreshed too.
    """
    move = _move(case, action)
    with transaction.atomic():
        locked = Case.objects.select_related("region").select_for_update(of=("self",)).get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise DomainError(
                CaseErrorCode.CONFLICT,
                _("Someone changed this case a moment ago. Reload it and try again."),
                field="version",
                current_version=locked.version,
            )
        before_agency = locked.agency_id
        now = timezone.now()
        payload = _apply(locked, action, move, actor=actor, payload=dict(payload or {}), changes=changes, now=now)
        locked.save()
        event = append_event(
            locked,
            type=move.event,
            actor_user=actor.user if actor is not None else None,
            visibility=move.visibility,
            payload=payload,
            at=now,
        )
        _write_outbox(locked, event, actor, notify=notify, previous_agency_id=before_agency)
    case.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})
    return case


# --- staff work on a case ------------------------------------------------------------------------------------------

NOTE_MAX = 4000


def staff_case(*, actor: Actor, case_id: int) -> Case:
    """A case the actor may work on or look at as staff: of their region. Anything else is NOT_FOUND, so staff of
    another region learn nothing, not even that the case exists."""
    case = Case.objects.filter(pk=case_id).select_related("region", "agency").first()
    if case is None or actor is None or not actor.works_in_region(case.region_id):
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field="caseId")
    return case


def _text(text: str, *, field: str, required: bool = True) -> str:
    text = (text or "").strip()
    if (required and not text) or len(text) > NOTE_MAX:
        raise DomainError(CaseErrorCode.INVALID, _("Write up to 4000 characters."), field=field)
    return text


def accept(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    return transition(
        staff_case(actor=actor, case_id=case_id), "accept", actor=actor, expected_version=expected_version
    )


def start_work(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    return transition(staff_case(actor=actor, case_id=case_id), "start", actor=actor, expected_version=expected_version)


def resolve(*, actor: Actor, case_id: int, note: str, expected_version: int | None = None) -> Case:
    """Done: the public resolution note tells the resident what was done."""
    case = staff_case(actor=actor, case_id=case_id)
    return transition(
        case, "resolve", actor=actor, expected_version=expected_version, payload={"note": _text(note, field="note")}
    )


def reject(*, actor: Actor, case_id: int, reason: str, note: str, expected_version: int | None = None) -> Case:
    case = staff_case(actor=actor, case_id=case_id)
    if reason not in RejectReason.__members__.values():
        raise DomainError(CaseErrorCode.INVALID, _("Choose a reason."), field="reason")
    return transition(
        case,
        "reject",
        actor=actor,
        expected_version=expected_version,
        changes={"closed_at": timezone.now()},
        payload={"reason": reason, "note": _text(note, field="note")},
    )


def claim(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """Take the case: the actor becomes its assignee."""
    case = staff_case(actor=actor, case_id=case_id)
    return transition(
        case,
        "claim",
        actor=actor,
        expected_version=expected_version,
        changes={"assignee": actor.user},
        payload={"assignee": actor.user.pk},
    )


def assign(*, actor: Actor, case_id: int, assignee_id: int, expected_version: int | None = None) -> Case:
    """Hand the case to a colleague of the handling agency."""
    case = staff_case(actor=actor, case_id=case_id)
    assignee = (
        User.objects.filter(pk=assignee_id, is_active=True, memberships__agency_id=case.agency_id).first()
        if case.agency_id
        else None
    )
    if assignee is None:
        raise DomainError(
            CaseErrorCode.INVALID, _("Choose someone who works at the handling agency."), field="assigneeId"
        )
    return transition(
        case,
        "assign",
        actor=actor,
        expected_version=expected_version,
        changes={"assignee": assignee},
        payload={"assignee": assignee.pk},
    )


def add_note(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    """An internal note: staff of the region see it, the resident never does."""
    case = staff_case(actor=actor, case_id=case_id)
    payload = {"text": _text(text, field="text")}
    return transition(case, "note", actor=actor, expected_version=expected_version, payload=payload)


def reply(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    """A public reply on the timeline: the reporter and co-reporters see it and are notified."""
    case = staff_case(actor=actor, case_id=case_id)
    payload = {"text": _text(text, field="text")}
    return transition(case, "reply", actor=actor, expected_version=expected_version, payload=payload)


# --- waiting on the resident (the clock pauses) --------------------------------------------------------------------


def clock_pause(case: Case, now: datetime) -> dict:
    """The changes that stop a case's SLA clock while it waits on the resident, keeping the working time left."""
    remaining = calendar.working_time_between(case.region, now, case.due_at) if case.due_at else None
    return {
        "sla_paused_at": now,
        "sla_remaining_seconds": int(remaining.total_seconds()) if remaining is not None else None,
    }


def clock_resume(case: Case, now: datetime) -> dict:
    """The changes that start the clock again: the wait is counted as paused time, and the deadline is set again
    from the working time that was left."""
    changes = {"sla_paused_at": None, "sla_remaining_seconds": None}
    if case.sla_paused_at is not None:
        waited = calendar.working_time_between(case.region, case.sla_paused_at, now)
        changes["sla_paused_seconds"] = case.sla_paused_seconds + int(waited.total_seconds())
        if case.sla_remaining_seconds is not None:  # a case without a deadline keeps none
            remaining = timedelta(seconds=case.sla_remaining_seconds)
            changes["due_at"] = calendar.add_working_time(case.region, now, remaining)
    return changes


def request_info(*, actor: Actor, case_id: int, question: str, expected_version: int | None = None) -> Case:
    """Ask the reporter for what is missing. The SLA clock stops until they answer; the working time that was left
    is kept, and the deadline is set again from it when the answer comes."""
    case = staff_case(actor=actor, case_id=case_id)
    return transition(
        case,
        "request_info",
        actor=actor,
        expected_version=expected_version,
        changes=clock_pause(case, timezone.now()),
        payload={"question": _text(question, field="question")},
    )


def provide_info(*, actor: Actor, case_id: int, answer: str, expected_version: int | None = None) -> Case:
    """The reporter answers; the clock runs again with the working time it had left."""
    case = Case.objects.filter(pk=case_id).select_related("region").first()
    if case is None or actor.user is None or case.resident_id != actor.user.pk:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field="caseId")
    return transition(
        case,
        "provide_info",
        actor=actor,
        expected_version=expected_version,
        changes=clock_resume(case, timezone.now()),
        payload={"answer": _text(answer, field="answer")},
    )


# --- disposisi: transfer between agencies of the region ------------------------------------------------------------


def transfer(*, actor: Actor, case_id: int, agency_id: int, reason: str, expected_version: int | None = None) -> Case:
    """Offer the case to another agency of the region; it accepts (and handles it) or declines (it comes back).
    After `CASE_TRANSFER_HOP_LIMIT` transfers the case goes to the region's triage agency instead, which decides.
    The clock keeps running: the resident's wait does not start again."""
    case = staff_case(actor=actor, case_id=case_id)
    target = Agency.objects.filter(pk=agency_id, region_id=case.region_id, active=True).first()
    if target is None or target.pk == case.agency_id:
        raise DomainError(CaseErrorCode.INVALID, _("Choose another agency of this region."), field="agencyId")
    reason = _text(reason, field="reason")
    hop_limit_reached = case.transfer_hops >= settings.CASE_TRANSFER_HOP_LIMIT
    if hop_limit_reached:
        target = case.region.triage_agency
        if target is None or target.pk == case.agency_id:
            raise DomainError(
                CaseErrorCode.INVALID,
                _("This case has been transferred too often; the triage agency decides where it goes."),
                field="agencyId",
            )
    return transition(
        case,
        "transfer",
        actor=actor,
        expected_version=expected_version,
        changes={"transfer_to": target, "transfer_hops": case.transfer_hops + 1},
        payload={
            "from": case.agency.code if case.agency else None,
            "to": target.code,
            "reason": reason,
            "hop": case.transfer_hops + 1,
            "hop_limit_reached": hop_limit_reached,
        },
    )


def accept_transfer(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """The receiving agency takes the case over: it becomes the handler, with no assignee yet."""
    staff_case(actor=actor, case_id=case_id)
    with transaction.atomic():
        # Read the agency on offer under the row lock, so a case declined and offered elsewhere meanwhile is not
        # handed to the agency of the earlier offer.
        case = Case.objects.select_for_update(of=("self",)).select_related("transfer_to").get(pk=case_id)
        receiver = case.transfer_to
        return transition(
            case,
            "accept_transfer",
            actor=actor,
            expected_version=expected_version,
            changes={"agency": receiver, "transfer_to": None, "assignee": None},
            payload={"agency": receiver.code if receiver else None},
        )


def decline_transfer(*, actor: Actor, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """The receiving agency refuses: the case goes back to the agency that offered it."""
    case = staff_case(actor=actor, case_id=case_id)
    return transition(
        case,
        "decline_transfer",
        actor=actor,
        expected_version=expected_version,
        changes={"transfer_to": None},
        payload={"reason": _text(reason, field="reason")},
    )


def forward(*, actor: Actor, case_id: int, body: str, reference: str = "", expected_version: int | None = None) -> Case:
    """Region admins: hand the case to a body outside the region's government (PLN, PDAM, BPJN…); this ends it
    here, with the body's name and reference on the timeline for the resident."""
    case = staff_case(actor=actor, case_id=case_id)
    body = (body or "").strip()
    if not body or len(body) > 200:
        raise DomainError(CaseErrorCode.INVALID, _("Name the body the case goes to."), field="body")
    return transition(
        case,
        "forward",
        actor=actor,
        expected_version=expected_version,
        changes={"closed_at": timezone.now(), "transfer_to": None},
        payload={"body": body, "reference": (reference or "").strip()[:200]},
    )


# --- several cases at once -----------------------------------------------------------------------------------------

BULK_MAX = 100
BULK_ACTIONS = {
    "accept": lambda actor, case_id, values: accept(actor=actor, case_id=case_id),
    "start": lambda actor, case_id, values: start_work(actor=actor, case_id=case_id),
    "claim": lambda actor, case_id, values: claim(actor=actor, case_id=case_id),
    "assign": lambda actor, case_id, values: assign(actor=actor, case_id=case_id, assignee_id=values["assignee_id"]),
}


@dataclass(frozen=True)
class BulkOutcome:
    case_id: int
    case: Case | None
    error: DomainError | None


def bulk(*, actor: Actor, action: str, case_ids: list[int], **values) -> list[BulkOutcome]:
    """Apply one action to up to 100 cases. Each case succeeds or fails on its own (its own transaction), and
    every failure is reported with its case: one refused case does not undo the others."""
    if action not in BULK_ACTIONS:
        raise DomainError(
            CaseErrorCode.UNKNOWN_ACTION, _("This action cannot be applied to several cases."), field="action"
        )
    if not case_ids or len(case_ids) > BULK_MAX:
        raise DomainError(CaseErrorCode.INVALID, _("Choose 1 to 100 cases."), field="caseIds")
    outcomes = []
    for case_id in dict.fromkeys(case_ids):  # each case once, in the order given
        try:
            outcomes.append(BulkOutcome(case_id, BULK_ACTIONS[action](actor, case_id, values), None))
        except DomainError as refused:
            outcomes.append(BulkOutcome(case_id, None, refused))
    return outcomes
