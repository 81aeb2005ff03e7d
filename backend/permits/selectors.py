"""Reads of permits: the types a region offers, an applicant's applications, an application as the office reads it,
the reviews asked of an agency, and public verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from backend.accounts.actor import Actor
from backend.forms import named_answers
from backend.keyset import Key, Keyset
from backend.permits.models import PermitApplication, PermitReview, PermitType
from backend.permits.workflow import PermitStatus

# An applicant's applications, newest first, and the cursors of their pages.
NEWEST_FIRST = Keyset(
    "applications-newest", Key("created_at", descending=True, kind=datetime), Key("id", descending=True)
)


def region_permit_types(region) -> QuerySet[PermitType]:
    return PermitType.objects.filter(region=region, active=True).order_by("code")


def my_applications(actor: Actor) -> QuerySet[PermitApplication]:
    """The signed-in person's applications, drafts included, newest first."""
    return (
        PermitApplication.objects.filter(applicant=actor.user)
        .select_related("case", "type_version__permit_type", "region")
        .order_by(*NEWEST_FIRST.order())
    )


def can_see(actor: Actor, application: PermitApplication) -> bool:
    """The applicant; staff of the region once it is submitted (a draft is the applicant's alone)."""
    if actor.user is not None and application.applicant_id == actor.user.pk:
        return True
    return application.case_id is not None and actor.works_in_region(application.region_id)


# The files of an application that are not the applicant's documents.
OFFICE_FILES = ("certificate", "review_report")


def form_answers(application: PermitApplication, language: str) -> list[tuple[str, object]]:
    """The applicant's answers, named by the form's questions in `language`."""
    return named_answers(application.type_version.form_schema, application.form_data, language)


def sees_personal_documents(actor: Actor, application: PermitApplication) -> bool:
    """Identity documents (a requirement marked `personal`, such as the KTP, which shows the whole NIK) are seen as
    the NIK is: by the applicant and the handling agency's staff, not by reviewers, other agencies or the admins."""
    if actor.user is not None and application.applicant_id == actor.user.pk:
        return True
    return application.case_id is not None and actor.works_at(application.case.agency_id)


def documents(actor: Actor, application: PermitApplication) -> list:
    """The applicant's documents the actor may see, by requirement, each with `requirement_name` in the active
    language."""
    version = application.type_version
    rows = application.documents.exclude(requirement__in=OFFICE_FILES).order_by("requirement", "position")
    if not sees_personal_documents(actor, application):
        rows = rows.exclude(requirement__in=[doc["code"] for doc in version.documents if doc.get("personal")])
    rows = list(rows)
    for row in rows:
        spec = version.requirement(row.requirement) or {}
        row.requirement_name = spec.get("name_en" if _english() else "name_id") or row.requirement
    return rows


def reviews(application: PermitApplication) -> QuerySet[PermitReview]:
    """The technical reviews asked for, recorded or not (staff of the region only)."""
    return application.reviews.select_related("agency", "report").order_by("agency__code")


def reviews_waiting_on(actor: Actor) -> QuerySet[PermitReview]:
    """The reviews asked of the actor's agencies that they have not recorded, on applications still in review,
    soonest deadline first: a reviewing agency's work, which is not in its queue (the case is the handler's)."""
    return (
        PermitReview.objects.filter(
            agency_id__in=list(actor.agency_roles),
            recorded_at__isnull=True,
            application__case__status=PermitStatus.TECHNICAL_REVIEW,
        )
        .select_related("application__case", "application__type_version", "agency")
        .order_by("application__case__due_at", "application__case_id")
    )


def _english() -> bool:
    return (get_language() or "id").startswith("en")


class Validity(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Verification:
    validity: Validity
    application: PermitApplication | None = None


def verify(token: str) -> Verification:
    """What the QR code on a certificate leads to: is this permit valid, expired or revoked? Unknown tokens and
    permits not (yet) issued are NOT_FOUND alike."""
    application = (
        PermitApplication.objects.filter(verify_token=(token or "")[:40], issued_at__isnull=False)
        .select_related("case", "region", "type_version__handling_agency")
        .first()
    )
    if application is None:
        return Verification(Validity.NOT_FOUND)
    if application.revoked_at is not None or application.case.status == PermitStatus.REVOKED:
        return Verification(Validity.REVOKED, application)
    today = timezone.now().astimezone(application.region.tz).date()
    if application.valid_until is not None and today > application.valid_until:
        return Verification(Validity.EXPIRED, application)
    return Verification(Validity.VALID, application)
