"""The SKM survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017) and its index, the IKM.

After a case closes, its reporter may rate nine elements of the service from 1 to 4. Per element the mean over the
responses is taken (NRR); the IKM is the mean of the nine element means times 25, on a 25-100 scale, graded
A (88.31-100, sangat baik), B (76.61-88.30, baik), C (65.00-76.60, kurang baik), D (25.00-64.99, tidak baik).
The averages are computed by the database (one aggregate query), the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, SurveyResponse
from backend.cases.services import transition
from backend.errors import DomainError

ELEMENTS = (
    gettext_lazy("Requirements"),  # persyaratan
    gettext_lazy("Procedure"),  # sistem, mekanisme dan prosedur
    gettext_lazy("Time to complete"),  # waktu penyelesaian
    gettext_lazy("Cost"),  # biaya/tarif
    gettext_lazy("What was delivered"),  # produk spesifikasi jenis pelayanan
    gettext_lazy("Staff competence"),  # kompetensi pelaksana
    gettext_lazy("Staff conduct"),  # perilaku pelaksana
    gettext_lazy("Handling of complaints and suggestions"),  # penanganan pengaduan, saran dan masukan
    gettext_lazy("Facilities"),  # sarana dan prasarana
)
FIELDS = tuple(f"u{i}" for i in range(1, 10))
GRADES = ((Decimal("88.31"), "A"), (Decimal("76.61"), "B"), (Decimal("65.00"), "C"), (Decimal("25.00"), "D"))


def grade(ikm: Decimal) -> str:
    """The grade of an IKM value rounded to two decimals, as the regulation's table reads."""
    value = ikm.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for floor, letter in GRADES:
        if value >= floor:
            return letter
    return "D"


@dataclass(frozen=True)
class ServiceIndex:
    responses: int
    element_means: tuple[Decimal | None, ...]
    ikm: Decimal | None
    grade: str | None


def answer_survey(*, actor: Actor, case_id: int, answers: list[int], comment: str = "") -> SurveyResponse:
    """The reporter's answers for a closed case, once."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or actor.user is None or case.resident_id != actor.user.pk:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field="caseId")
    if len(answers) != len(FIELDS) or any(not isinstance(a, int) or not 1 <= a <= 4 for a in answers):
        raise DomainError(CaseErrorCode.INVALID, _("Answer all nine questions with 1 to 4."), field="answers")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise DomainError(CaseErrorCode.INVALID, _("The comment is too long (2000 at most)."), field="comment")
    try:
        with transaction.atomic():
            transition(case, "survey", actor=actor, payload={"answers": answers})
            return SurveyResponse.objects.create(
                case=case,
                region_id=case.region_id,
                agency_id=case.agency_id,
                comment=comment,
                **dict(zip(FIELDS, answers, strict=True)),
            )
    except IntegrityError:
        raise DomainError(
            CaseErrorCode.ALREADY_DONE, _("You have answered this survey already."), field="caseId"
        ) from None


def service_index(
    *, region_id: int, agency_id: int | None = None, since: datetime | None = None, until: datetime | None = None
) -> ServiceIndex:
    responses = SurveyResponse.objects.filter(region_id=region_id)
    if agency_id is not None:
        responses = responses.filter(agency_id=agency_id)
    if since is not None:
        responses = responses.filter(created_at__gte=since)
    if until is not None:
        responses = responses.filter(created_at__lt=until)
    row = responses.aggregate(n=Count("pk"), **{f: Avg(f) for f in FIELDS})
    if not row["n"]:
        return ServiceIndex(0, (None,) * len(FIELDS), None, None)
    means = tuple(Decimal(str(row[f])).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) for f in FIELDS)
    exact = sum(Decimal(str(row[f])) for f in FIELDS) / len(FIELDS) * 25
    ikm = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return ServiceIndex(row["n"], means, ikm, grade(ikm))
