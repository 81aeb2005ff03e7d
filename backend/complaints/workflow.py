"""The complaint as a kind of case: its statuses, its transition table and its end states, registered with the core
(backend.cases.workflow) when the app is ready."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.cases import workflow
from backend.cases.errors import CaseErrorCode
from backend.cases.models import CaseKind, Visibility
from backend.cases.workflow import CaseRole, Move, table
from backend.errors import DomainError


class ComplaintStatus(StrEnum):
    SUBMITTED = "submitted"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    INFO_REQUESTED = "info_requested"  # waiting on the resident: the clock is paused
    TRANSFER_PENDING = "transfer_pending"  # offered to another agency, which accepts or declines
    FORWARDED = "forwarded"  # handed to a body outside the region's government (PLN, PDAM…)


LABELS = {
    ComplaintStatus.SUBMITTED: gettext_lazy("submitted"),
    ComplaintStatus.ROUTED: gettext_lazy("routed to an agency"),
    ComplaintStatus.ACCEPTED: gettext_lazy("accepted"),
    ComplaintStatus.IN_PROGRESS: gettext_lazy("in progress"),
    ComplaintStatus.RESOLVED: gettext_lazy("resolved"),
    ComplaintStatus.REOPENED: gettext_lazy("reopened"),
    ComplaintStatus.CLOSED: gettext_lazy("closed"),
    ComplaintStatus.REJECTED: gettext_lazy("rejected"),
    ComplaintStatus.DUPLICATE: gettext_lazy("a duplicate"),
    ComplaintStatus.INFO_REQUESTED: gettext_lazy("waiting for information from the reporter"),
    ComplaintStatus.TRANSFER_PENDING: gettext_lazy("being transferred to another agency"),
    ComplaintStatus.FORWARDED: gettext_lazy("forwarded to an outside body"),
}


def _reopened_by_resident_before(case, payload: dict) -> None:
    if case.events.filter(type="reopened", actor_id=case.resident_id).exists():
        raise DomainError(
            CaseErrorCode.ALREADY_DONE,
            _("You have reopened this report once already; the agency will decide on it."),
            field="reason",
        )


def _not_rated_before(case, payload: dict) -> None:
    if case.events.filter(type="rated").exists():
        raise DomainError(CaseErrorCode.ALREADY_DONE, _("This report has been rated already."), field="rating")


C = ComplaintStatus
R = CaseRole
STAFF = frozenset({R.HANDLER, R.SUPERVISOR})
MODERATORS = frozenset({R.HANDLER, R.SUPERVISOR, R.REGION_ADMIN})
OPEN = frozenset({C.ROUTED, C.ACCEPTED, C.IN_PROGRESS, C.REOPENED})
TERMINAL = frozenset({C.CLOSED, C.REJECTED, C.DUPLICATE, C.FORWARDED})
EVERY = frozenset(ComplaintStatus)
PAUSED_OR_MOVING = frozenset({C.INFO_REQUESTED, C.TRANSFER_PENDING})


COMPLAINT = table(
    Move("route", frozenset({C.SUBMITTED}), C.ROUTED, frozenset({R.SYSTEM}), "routed"),
    Move("accept", frozenset({C.ROUTED}), C.ACCEPTED, STAFF, "accepted", responds=True),
    Move("start", frozenset({C.ACCEPTED, C.REOPENED}), C.IN_PROGRESS, STAFF, "work_started"),
    Move(
        "resolve",
        frozenset({C.ACCEPTED, C.IN_PROGRESS, C.REOPENED}),
        C.RESOLVED,
        STAFF,
        "resolved",
        responds=True,
        resolves=True,
    ),
    Move("confirm", frozenset({C.RESOLVED}), C.CLOSED, frozenset({R.REPORTER}), "confirmed"),
    Move("auto_close", frozenset({C.RESOLVED}), C.CLOSED, frozenset({R.SYSTEM}), "auto_closed"),
    Move(
        "reopen",
        frozenset({C.RESOLVED}),
        C.REOPENED,
        frozenset({R.REPORTER}),
        "reopened",
        guard=_reopened_by_resident_before,
    ),
    Move(
        "staff_reopen",
        frozenset({C.RESOLVED, C.CLOSED}),
        C.REOPENED,
        frozenset({R.SUPERVISOR, R.REGION_ADMIN}),
        "reopened",
    ),
    Move("reject", OPEN, C.REJECTED, STAFF, "rejected", responds=True, resolves=True),
    Move("mark_duplicate", frozenset({C.ROUTED, C.ACCEPTED, C.IN_PROGRESS}), C.DUPLICATE, STAFF, "marked_duplicate"),
    Move(
        "join",
        frozenset({C.SUBMITTED}) | OPEN,
        None,
        frozenset({R.RESIDENT}),
        "co_reporter_joined",
        Visibility.INTERNAL,
    ),
    Move("absorb_reporters", OPEN, None, frozenset({R.SYSTEM}), "co_reporters_added", Visibility.INTERNAL),
    Move("publish", EVERY, None, MODERATORS, "published", Visibility.INTERNAL),
    Move("unpublish", EVERY, None, MODERATORS, "unpublished", Visibility.INTERNAL),
    Move("rate", frozenset({C.CLOSED}), None, frozenset({R.REPORTER}), "rated", guard=_not_rated_before),
    Move("claim", OPEN, None, frozenset({R.HANDLER}), "claimed", Visibility.INTERNAL),
    Move("assign", OPEN, None, STAFF, "assigned", Visibility.INTERNAL),
    Move("note", EVERY, None, MODERATORS, "note_added", Visibility.INTERNAL, record_only=True),
    Move("reply", OPEN | frozenset({C.RESOLVED, C.INFO_REQUESTED}), None, STAFF, "replied", responds=True),
    Move(
        "request_info",
        frozenset({C.ACCEPTED, C.IN_PROGRESS, C.REOPENED}),
        C.INFO_REQUESTED,
        STAFF,
        "info_requested",
        responds=True,
    ),
    Move("provide_info", frozenset({C.INFO_REQUESTED}), C.IN_PROGRESS, frozenset({R.REPORTER}), "info_provided"),
    Move("transfer", OPEN, C.TRANSFER_PENDING, STAFF, "transfer_offered"),
    Move("accept_transfer", frozenset({C.TRANSFER_PENDING}), C.ROUTED, frozenset({R.RECEIVER}), "transfer_accepted"),
    Move("decline_transfer", frozenset({C.TRANSFER_PENDING}), C.ROUTED, frozenset({R.RECEIVER}), "transfer_declined"),
    Move("forward", OPEN, C.FORWARDED, frozenset({R.REGION_ADMIN}), "forwarded"),
    Move("survey", frozenset({C.CLOSED}), None, frozenset({R.REPORTER}), "survey_answered", Visibility.INTERNAL),
    Move("mark_overdue", OPEN | PAUSED_OR_MOVING, None, frozenset({R.SYSTEM}), "overdue", Visibility.INTERNAL),
    Move("escalate", OPEN | PAUSED_OR_MOVING, None, frozenset({R.SYSTEM}), "escalated", Visibility.INTERNAL),
)


def register() -> None:
    workflow.register(
        CaseKind.COMPLAINT,
        statuses=ComplaintStatus,
        labels=LABELS,
        moves=COMPLAINT,
        terminal=TERMINAL,
        clock_stopped=frozenset({C.RESOLVED}),  # waiting for the reporter's word
    )
