"""The permit application as a kind of case: its statuses, its transition table with the conditions it checks, the
reviewer role, and its end states, registered with the core (backend.cases.workflow) when the app is ready."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.cases import workflow
from backend.cases.errors import CaseErrorCode
from backend.cases.models import CaseKind, Visibility
from backend.cases.workflow import CaseRole, Move, table
from backend.errors import DomainError
from backend.permits import fees
from backend.permits.models import PermitReview


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


LABELS = {
    PermitStatus.SUBMITTED: gettext_lazy("submitted"),
    PermitStatus.REJECTED: gettext_lazy("rejected"),
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


def reviewing_agency_ids(case) -> set[int]:
    """Agencies asked for this application's technical review."""
    return set(PermitReview.objects.filter(application__case=case).values_list("agency_id", flat=True))


def reviews_done(case) -> None:
    """The technical review is done: an application of a type that names reviewing agencies was sent to review (it
    cannot be skipped), and every agency asked has recorded its recommendation."""
    reviews = list(PermitReview.objects.filter(application__case=case).select_related("agency"))
    if not reviews and case.permit.type_version.reviewing_agencies.exists():
        raise DomainError(CaseErrorCode.INVALID_STATE, _("Send the application to its technical review first."))
    names = sorted(review.agency.short_name or review.agency.name for review in reviews if not review.recommendation)
    if names:
        raise DomainError(
            CaseErrorCode.INVALID_STATE,
            _("Waiting for the technical review of: %(agencies)s.") % {"agencies": ", ".join(names)},
        )


def decision_ready(case) -> None:
    """The head may sign once the reviews are in and, when there is a fee, it is paid."""
    reviews_done(case)
    if case.status != PermitStatus.PAID and fees.required(case.permit.type_version.fee):
        raise DomainError(CaseErrorCode.INVALID_STATE, _("The fee has not been paid yet."))


def _reviews_done(case, payload: dict) -> None:
    reviews_done(case)


def _decision_ready(case, payload: dict) -> None:
    decision_ready(case)


def _reviewer(case, actor) -> set[CaseRole]:
    """Staff of an agency asked for the application's technical review."""
    if actor.agency_roles and any(actor.works_at(agency_id) for agency_id in reviewing_agency_ids(case)):
        return {CaseRole.REVIEWER}
    return set()


R = CaseRole
P = PermitStatus
P_OPEN = frozenset({P.SUBMITTED, P.VERIFICATION, P.RESUBMITTED, P.TECHNICAL_REVIEW, P.FEE_ASSESSED, P.PAID, P.APPROVED})
P_EVERY = frozenset(PermitStatus)
P_STAFF = frozenset({R.HANDLER, R.SUPERVISOR})
PERMIT = table(
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
    Move(
        "note",
        P_EVERY,
        None,
        P_STAFF | {R.REVIEWER, R.REGION_ADMIN},
        "note_added",
        Visibility.INTERNAL,
        record_only=True,
    ),
    Move("reveal_nik", P_EVERY, None, P_STAFF, "nik_viewed", Visibility.INTERNAL, record_only=True),
    Move("revoke", frozenset({P.ISSUED}), P.REVOKED, frozenset({R.REGION_ADMIN}), "revoked"),
    Move("flag_deemed_approval", P_OPEN - {P.APPROVED}, None, frozenset({R.SYSTEM}), "deemed_approval_due"),
    Move("mark_overdue", P_OPEN | {P.REVISION_REQUESTED}, None, frozenset({R.SYSTEM}), "overdue", Visibility.INTERNAL),
    Move("escalate", P_OPEN | {P.REVISION_REQUESTED}, None, frozenset({R.SYSTEM}), "escalated", Visibility.INTERNAL),
)


def register() -> None:
    workflow.register(
        CaseKind.PERMIT,
        statuses=PermitStatus,
        labels=LABELS,
        moves=PERMIT,
        terminal=frozenset({P.ISSUED, P.REJECTED, P.WITHDRAWN, P.REVOKED}),
        roles=_reviewer,
    )
