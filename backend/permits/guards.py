"""The permit conditions the transition table checks (backend.cases.workflow reads them lazily, by kind)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from backend.cases.errors import CaseErrorCode
from backend.cases.workflow import PermitStatus
from backend.errors import DomainError
from backend.permits import fees
from backend.permits.models import PermitReview


def reviewing_agency_ids(case) -> set[int]:
    """Agencies asked for this application's technical review."""
    return set(PermitReview.objects.filter(application__case=case).values_list("agency_id", flat=True))


def reviews_done(case) -> None:
    """Every reviewing agency asked has recorded its recommendation."""
    waiting = PermitReview.objects.filter(application__case=case, recommendation="").select_related("agency")
    names = sorted(review.agency.short_name or review.agency.name for review in waiting)
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
