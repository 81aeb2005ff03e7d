"""Transition tables: for each kind of case, every action as `(from states, to state, roles, guard)`.

This is data. `services.transition()` is the one function that enforces it; nothing else changes a case's status.
Roles are relative to the case: the reporter is the case's own resident, a handler works at the case's agency, a
supervisor supervises it, a region admin administers its region, `system` is a scheduled task, and `resident` is
anyone signed in (joining as a co-reporter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.cases.errors import CaseErrorCode
from backend.cases.models import CaseKind, Visibility
from backend.errors import DomainError


class CaseRole(StrEnum):
    REPORTER = "reporter"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    REGION_ADMIN = "region_admin"
    SYSTEM = "system"
    RESIDENT = "resident"
    RECEIVER = "receiver"  # staff of the agency a case is being transferred to
    REVIEWER = "reviewer"  # staff of an agency asked for a permit's technical review


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


STATUS_LABELS = {
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


class PermitStatus(StrEnum):
    SUBMITTED = "submitted"
    VERIFICATION = "verification"  # the one-stop office (DPMPTSP) checks the file
    REVISION_REQUESTED = "revision_requested"  # waiting on the applicant: the clock is paused
    RESUBMITTED = "resubmitted"
    TECHNICAL_REVIEW = "technical_review"  # reviewing agencies record their recommendations
    FEE_ASSESSED = "fee_assessed"  # waiting for the payment
    PAID = "paid"
    APPROVED = "approved"  # the head signed; the permit is issued next
    ISSUED = "issued"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"


STATUS_LABELS.update(
    {
        PermitStatus.VERIFICATION: gettext_lazy("being verified"),
        PermitStatus.REVISION_REQUESTED: gettext_lazy("waiting for a revision from the applicant"),
        PermitStatus.RESUBMITTED: gettext_lazy("resubmitted"),
        PermitStatus.TECHNICAL_REVIEW: gettext_lazy("in technical review"),
        PermitStatus.FEE_ASSESSED: gettext_lazy("waiting for payment"),
        PermitStatus.PAID: gettext_lazy("paid"),
        PermitStatus.APPROVED: gettext_lazy("approved"),
        PermitStatus.ISSUED: gettext_lazy("issued"),
        PermitStatus.WITHDRAWN: gettext_lazy("withdrawn"),
        PermitStatus.REVOKED: gettext_lazy("revoked"),
    }
)

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
EVERY = frozenset(ComplaintStatus)
PAUSED_OR_MOVING = frozenset({C.INFO_REQUESTED, C.TRANSFER_PENDING})


def _table(*moves: Move) -> dict[str, Move]:
    return {m.action: m for m in moves}


COMPLAINT = _table(
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
    Move("note", EVERY, None, MODERATORS, "note_added", Visibility.INTERNAL),
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


def _reviews_done(case, payload: dict) -> None:
    from backend.permits.guards import reviews_done

    reviews_done(case)


def _decision_ready(case, payload: dict) -> None:
    from backend.permits.guards import decision_ready

    decision_ready(case)


P = PermitStatus
P_OPEN = frozenset({P.SUBMITTED, P.VERIFICATION, P.RESUBMITTED, P.TECHNICAL_REVIEW, P.FEE_ASSESSED, P.PAID, P.APPROVED})
P_EVERY = frozenset(PermitStatus)
P_STAFF = frozenset({R.HANDLER, R.SUPERVISOR})
PERMIT = _table(
    Move(
        "verify",
        frozenset({P.SUBMITTED, P.RESUBMITTED}),
        P.VERIFICATION,
        P_STAFF,
        "verification_started",
        responds=True,
    ),
    Move(
        "request_revision",
        frozenset({P.VERIFICATION, P.TECHNICAL_REVIEW}),
        P.REVISION_REQUESTED,
        P_STAFF,
        "revision_requested",
        responds=True,
    ),
    Move("resubmit", frozenset({P.REVISION_REQUESTED}), P.RESUBMITTED, frozenset({R.REPORTER}), "resubmitted"),
    Move("send_to_review", frozenset({P.VERIFICATION}), P.TECHNICAL_REVIEW, P_STAFF, "review_started"),
    Move(
        "recommend",
        frozenset({P.TECHNICAL_REVIEW}),
        None,
        frozenset({R.REVIEWER}),
        "recommendation_recorded",
        Visibility.INTERNAL,
    ),
    Move(
        "assess_fee",
        frozenset({P.VERIFICATION, P.TECHNICAL_REVIEW}),
        P.FEE_ASSESSED,
        P_STAFF,
        "fee_assessed",
        guard=_reviews_done,
    ),
    Move("record_payment", frozenset({P.FEE_ASSESSED}), P.PAID, P_STAFF | {R.SYSTEM}, "payment_recorded"),
    Move(
        "approve",
        frozenset({P.VERIFICATION, P.TECHNICAL_REVIEW, P.PAID}),
        P.APPROVED,
        frozenset({R.SUPERVISOR}),
        "approved",
        guard=_decision_ready,
    ),
    Move("issue", frozenset({P.APPROVED}), P.ISSUED, P_STAFF, "issued", resolves=True),
    Move(
        "reject", P_OPEN - {P.APPROVED}, P.REJECTED, frozenset({R.SUPERVISOR}), "rejected", responds=True, resolves=True
    ),
    Move("withdraw", P_OPEN | {P.REVISION_REQUESTED}, P.WITHDRAWN, frozenset({R.REPORTER}), "withdrawn"),
    Move("message", P_EVERY, None, frozenset({R.REPORTER, R.HANDLER, R.SUPERVISOR, R.REVIEWER}), "message"),
    Move("note", P_EVERY, None, P_STAFF | {R.REVIEWER, R.REGION_ADMIN}, "note_added", Visibility.INTERNAL),
    Move("reveal_nik", P_EVERY, None, P_STAFF, "nik_viewed", Visibility.INTERNAL),
    Move("revoke", frozenset({P.ISSUED}), P.REVOKED, frozenset({R.REGION_ADMIN}), "revoked"),
    Move("flag_deemed_approval", P_OPEN - {P.APPROVED}, None, frozenset({R.SYSTEM}), "deemed_approval_due"),
    Move("mark_overdue", P_OPEN | {P.REVISION_REQUESTED}, None, frozenset({R.SYSTEM}), "overdue", Visibility.INTERNAL),
    Move("escalate", P_OPEN | {P.REVISION_REQUESTED}, None, frozenset({R.SYSTEM}), "escalated", Visibility.INTERNAL),
)

TABLES: dict[str, dict[str, Move]] = {CaseKind.COMPLAINT: COMPLAINT, CaseKind.PERMIT: PERMIT}
STATUSES: dict[str, type[StrEnum]] = {CaseKind.COMPLAINT: ComplaintStatus, CaseKind.PERMIT: PermitStatus}
TERMINAL: dict[str, frozenset[str]] = {
    CaseKind.COMPLAINT: frozenset({C.CLOSED, C.REJECTED, C.DUPLICATE, C.FORWARDED}),
    CaseKind.PERMIT: frozenset({P.ISSUED, P.REJECTED, P.WITHDRAWN, P.REVOKED}),
}
# Statuses in which the SLA clock no longer runs: the end states, and resolved (waiting for the reporter's word).
CLOCK_STOPPED = frozenset().union(*TERMINAL.values()) | {C.RESOLVED}


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
    if case.kind == CaseKind.PERMIT and actor.agency_roles:
        from backend.permits.guards import reviewing_agency_ids

        if any(actor.works_at(agency_id) for agency_id in reviewing_agency_ids(case)):
            roles.add(R.REVIEWER)
    return frozenset(roles)
