"""Writes of the Case core. `transition()` is the only way a case changes state (DESIGN.md, "the one line"); cases are
opened by backend.cases.opening."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases import moves, outbox, selectors
from backend.cases.errors import CaseErrorCode, RejectReason
from backend.cases.models import (
    Case,
)
from backend.cases.timeline import append_event
from backend.errors import DomainError
from backend.regions import calendar
from backend.regions.models import Agency
from media.models import AttachmentKind
from media.services import StoredPhotos, read_photo

RESULT_PHOTO = "result"  # an attachment's `requirement` on the photo of the work done, taken by staff


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
    move = moves.move_of(case, action)
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
        payload = moves.apply_move(
            locked, action, move, actor=actor, payload=dict(payload or {}), changes=changes, now=now
        )
        locked.save()
        event = append_event(
            locked,
            type=move.event,
            actor_user=actor.user if actor is not None else None,
            visibility=move.visibility,
            payload=payload,
            at=now,
        )
        outbox.write(locked, event, actor, notify=notify, previous_agency_id=before_agency)
    case.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})
    return case


# --- staff work on a case ------------------------------------------------------------------------------------------

NOTE_MAX = 4000


def staff_case(*, actor: Actor, case_id: int, related: tuple[str, ...] = ()) -> Case:
    """A case the actor may work on or look at as staff: of their region. Anything else is NOT_FOUND, so staff of
    another region learn nothing, not even that the case exists. `related`: more relations to load with it (a page
    that shows them)."""
    case = Case.objects.filter(pk=case_id).select_related("region", "agency", *related).first()
    if case is None or actor is None or not actor.works_in_region(case.region_id):
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field="caseId")
    return case


def note_text(text: str, *, field: str, required: bool = True) -> str:
    """A note's or a message's text: stripped, required unless said otherwise, at most NOTE_MAX characters."""
    text = (text or "").strip()
    if required and not text:
        raise DomainError(CaseErrorCode.INVALID, _("Write something here."), field=field)
    if len(text) > NOTE_MAX:
        raise DomainError(CaseErrorCode.INVALID, _("Write up to 4000 characters."), field=field)
    return text


def accept(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    return transition(
        staff_case(actor=actor, case_id=case_id), "accept", actor=actor, expected_version=expected_version
    )


def start_work(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    return transition(staff_case(actor=actor, case_id=case_id), "start", actor=actor, expected_version=expected_version)


def resolve(*, actor: Actor, case_id: int, note: str, photo=None, expected_version: int | None = None) -> Case:
    """Done: the public resolution note tells the resident what was done, with a photo of the result if staff took
    one (checked and stored like the reporter's; it is among the case's photos and named on the event)."""
    case = staff_case(actor=actor, case_id=case_id)
    note = note_text(note, field="note")
    if photo is None:
        return transition(case, "resolve", actor=actor, expected_version=expected_version, payload={"note": note})
    from media.images import MediaRejected

    try:
        processed = read_photo(photo)
    except MediaRejected as refused:
        raise DomainError(refused.code, refused.message, field="photo") from None
    stored = StoredPhotos([processed], region_id=case.region_id)
    try:
        with transaction.atomic():
            (row,) = stored.rows(case, uploader=actor.user)
            row.position = case.attachments.filter(kind=AttachmentKind.PHOTO).count()
            row.requirement = RESULT_PHOTO
            transition(
                case,
                "resolve",
                actor=actor,
                expected_version=expected_version,
                payload={"note": note, "photo": str(row.pk)},
            )
            row.save(force_insert=True)
    except Exception:
        stored.discard()
        raise
    return case


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
        payload={"reason": reason, "note": note_text(note, field="note")},
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
    assignee = selectors.assignable_staff(case).filter(pk=assignee_id).first()
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
    payload = {"text": note_text(text, field="text")}
    return transition(case, "note", actor=actor, expected_version=expected_version, payload=payload)


def reply(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    """A public reply on the timeline: the reporter and co-reporters see it and are notified."""
    case = staff_case(actor=actor, case_id=case_id)
    payload = {"text": note_text(text, field="text")}
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
        payload={"question": note_text(question, field="question")},
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
        payload={"answer": note_text(answer, field="answer")},
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
    reason = note_text(reason, field="reason")
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
        payload={"reason": note_text(reason, field="reason")},
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
