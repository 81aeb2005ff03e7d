"""Writes of the Case core. `transition()` is the only way a case changes state (DESIGN.md, "the one line")."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import TRACKING_PREFIX, Case, CaseEvent, CaseParticipant, TrackingSequence, Visibility
from backend.cases.timeline import append_event
from backend.cases.workflow import STATUS_LABELS, TABLES, case_roles
from backend.errors import DomainError
from notifications.models import Audience, OutboxMessage


def allocate_tracking_code(*, region, kind: str, at: datetime) -> str:
    """The next `ADU-YYYY-NNNNNN` of the region (year in the region's time zone). Safe under concurrency: the
    counter row is locked until the surrounding transaction ends. A rolled-back case leaves a gap, never a clash."""
    prefix = TRACKING_PREFIX[kind]
    year = at.astimezone(region.tz).year
    for _attempt in range(2):
        try:
            with transaction.atomic():
                sequence, _created = TrackingSequence.objects.select_for_update().get_or_create(
                    region=region, prefix=prefix, year=year
                )
                break
        except IntegrityError:  # another transaction created the row first: lock theirs
            continue
    TrackingSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db(fields=["last_value"])
    return f"{prefix}-{year}-{sequence.last_value:06d}"


def _write_outbox(case: Case, event: CaseEvent, actor: Actor | None) -> None:
    """One row per audience: the reporter and co-reporters (public events), the assignee, the agency's queue."""
    acting_user = actor.user.pk if actor is not None and actor.user is not None else None
    users = set()
    if event.visibility == Visibility.PUBLIC:
        users.add(case.resident_id)
        users.update(CaseParticipant.objects.filter(case=case).values_list("user_id", flat=True))
    if case.assignee_id:
        users.add(case.assignee_id)
    users.discard(acting_user)
    rows = [
        OutboxMessage(case=case, event=event, audience=Audience.USER, audience_id=user_id, event_type=event.type)
        for user_id in sorted(users)
    ]
    if case.agency_id:
        rows.append(
            OutboxMessage(
                case=case, event=event, audience=Audience.AGENCY, audience_id=case.agency_id, event_type=event.type
            )
        )
    OutboxMessage.objects.bulk_create(rows)


def open_case(*, actor: Actor, fields: dict, event_payload: dict) -> Case:
    """Create a case in its first state with its first timeline event and outbox rows. Runs inside the caller's
    transaction (the kind-specific service also writes its detail row there)."""
    now = timezone.now()
    case = Case(**{"submitted_at": now, **fields})
    case.tracking_code = allocate_tracking_code(region=case.region, kind=case.kind, at=now)
    case.save()
    event = append_event(
        case,
        type="submitted",
        actor_user=actor.user,
        visibility=Visibility.PUBLIC,
        payload={"to": case.status, **event_payload},
        at=now,
    )
    _write_outbox(case, event, actor)
    return case


def transition(
    case: Case,
    action: str,
    *,
    actor: Actor | None,
    expected_version: int | None = None,
    payload: dict | None = None,
    changes: dict | None = None,
) -> Case:
    """Apply `action` to the case as the kind's table says, or refuse with a typed DomainError.

    Checks, in order: the action exists for the kind, the client's `expected_version` is current (CONFLICT), the
    actor holds a role the move allows (FORBIDDEN), the case is in a state the move starts from (INVALID_STATE),
    and the move's guard. Then, in one transaction: the status and `changes` are saved with the version bumped,
    an event is appended to the timeline, and outbox rows are written for every audience. `actor` None is the
    system (scheduled tasks). Returns the updated case; the caller's instance is refreshed too.
    """
    move = TABLES[case.kind].get(action)
    if move is None:
        raise DomainError(CaseErrorCode.UNKNOWN_ACTION, _("This action does not exist for this kind of case."))
    payload = dict(payload or {})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise DomainError(
                CaseErrorCode.CONFLICT,
                _("Someone changed this case a moment ago. Reload it and try again."),
                field="version",
                current_version=locked.version,
            )
        if not case_roles(locked, actor) & move.roles:
            raise DomainError(CaseErrorCode.FORBIDDEN, _("You may not do this on this case."))
        if locked.status not in move.sources:
            raise DomainError(
                CaseErrorCode.INVALID_STATE,
                _("This cannot be done while the case is %(status)s.")
                % {"status": STATUS_LABELS.get(locked.status, locked.status)},
            )
        if move.guard is not None:
            move.guard(locked, payload)
        before = locked.status
        if move.target is not None:
            locked.status = move.target
        for name, value in (changes or {}).items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save()
        now = timezone.now()
        event = append_event(
            locked,
            type=move.event,
            actor_user=actor.user if actor is not None else None,
            visibility=move.visibility,
            payload={"action": action, "from": before, "to": locked.status, **payload},
            at=now,
        )
        _write_outbox(locked, event, actor)
    case.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})
    return case
