"""The office's side of a permit: verification, revision requests, technical review by agencies, the fee and its
payment, approval by the head, issuance with a numbered certificate (ReportLab, imported when first needed),
rejection, revocation, notes and the audited NIK reveal. KPK's point in backing online permits is that applicant and
official never meet: every step is a move of the case through `transition()` (backend.permits.workflow), on its
timeline, with a public clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, CaseKind
from backend.cases.services import NOTE_MAX, clock_pause, note_text, staff_case, transition
from backend.errors import DomainError, DomainErrors
from backend.permits import fees, nik
from backend.permits.errors import PermitErrorCode
from backend.permits.models import (
    PermitApplication,
    PermitNumberSequence,
    PermitReview,
    Recommendation,
)
from backend.permits.workflow import PermitStatus
from backend.regions.models import Agency
from media.models import Attachment, AttachmentKind

REPORT_MAX_BYTES = 10 * 1024 * 1024


def _permit_case(actor: Actor, case_id: int) -> Case:
    case = staff_case(actor=actor, case_id=case_id)
    if case.kind != CaseKind.PERMIT:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field="caseId")
    return case


def start_verification(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    return transition(_permit_case(actor, case_id), "verify", actor=actor, expected_version=expected_version)


def request_revision(*, actor: Actor, case_id: int, items: list[dict], expected_version: int | None = None) -> Case:
    """Say what is missing or wrong, per form field (`field`: a form path) or document (`document`: its code); the
    clock stops until the applicant resubmits."""
    case = _permit_case(actor, case_id)
    version = case.permit.type_version
    codes = {doc["code"] for doc in version.documents}
    fields = set(version.form_schema.get("properties", {})) | {"applicantName", "nik", "businessName", "nib"}
    cleaned, errors = [], []
    for index, item in enumerate(items or []):
        target_field, document = (item.get("field") or "").strip(), (item.get("document") or "").strip()
        note = (item.get("note") or "").strip()
        known = (document in codes) if document else (target_field.split(".")[0] in fields if target_field else False)
        if not known or bool(document) == bool(target_field) or not note or len(note) > NOTE_MAX:
            errors.append(
                DomainError(
                    PermitErrorCode.INVALID,
                    _("Name one form field or one document of this permit, and say what to fix."),
                    field=f"items.{index}",
                )
            )
            continue
        cleaned.append({"field": target_field, "document": document, "note": note})
    if not cleaned and not errors:
        errors.append(DomainError(PermitErrorCode.INVALID, _("Say what needs revising."), field="items"))
    if errors:
        raise DomainErrors(errors)
    with transaction.atomic():
        transition(
            case,
            "request_revision",
            actor=actor,
            expected_version=expected_version,
            changes=clock_pause(case, timezone.now()),
            payload={"items": cleaned},
        )
        case.permit.revision_items = cleaned
        case.permit.save(update_fields=["revision_items", "updated_at"])
    return case


def send_to_review(
    *, actor: Actor, case_id: int, agency_ids: list[int] | None = None, expected_version: int | None = None
) -> Case:
    """Ask reviewing agencies (the type's, unless others are named) for their technical recommendation."""
    case = _permit_case(actor, case_id)
    application = case.permit
    wanted = (
        agency_ids if agency_ids else list(application.type_version.reviewing_agencies.values_list("pk", flat=True))
    )
    agencies = list(Agency.objects.filter(pk__in=wanted, region_id=case.region_id).exclude(pk=case.agency_id))
    if not agencies or len(agencies) != len(set(wanted)):
        raise DomainError(
            PermitErrorCode.INVALID,
            _("Name agencies of the region, other than the handling one, to review the application."),
            field="agencyIds",
        )
    with transaction.atomic():
        PermitReview.objects.bulk_create(
            [PermitReview(application=application, agency=agency) for agency in agencies], ignore_conflicts=True
        )
        transition(
            case,
            "send_to_review",
            actor=actor,
            expected_version=expected_version,
            payload={"agencies": sorted(a.code for a in agencies)},
        )
    return case


def recommend(
    *,
    actor: Actor,
    case_id: int,
    recommendation: str,
    note: str,
    inspection_date: dt.date | None = None,
    report=None,
) -> PermitReview:
    """A reviewing agency's recommendation, with its report (PDF) and the date of any field inspection."""
    case = _permit_case(actor, case_id)
    if recommendation not in Recommendation.values:
        raise DomainError(PermitErrorCode.INVALID, _("Unknown recommendation."), field="recommendation")
    note = note_text(note, field="note")
    review = (
        PermitReview.objects.filter(application__case=case, agency_id__in=list(actor.agency_roles))
        .select_related("agency")
        .order_by(F("recorded_at").asc(nulls_first=True))  # a pending review before one already recorded
        .first()
    )
    if review is None:
        raise DomainError(PermitErrorCode.FORBIDDEN, _("Your agency was not asked to review this application."))
    if review.recorded_at is not None:
        raise DomainError(PermitErrorCode.ALREADY_DONE, _("Your agency has recorded its recommendation already."))
    stored = None
    if report is not None:
        from media.documents import DocumentRejected, store_document

        try:
            stored = store_document(
                report, prefix=f"permits/{case.region_id}/reviews", accepted=("pdf",), max_bytes=REPORT_MAX_BYTES
            )
        except DocumentRejected as refused:
            raise DomainError(refused.code, refused.message, field="report") from None
    with transaction.atomic():
        transition(
            case,
            "recommend",
            actor=actor,
            payload={
                "agency": review.agency.code,
                "recommendation": recommendation,
                "inspection_date": inspection_date.isoformat() if inspection_date else None,
            },
        )
        if stored is not None:
            review.report = Attachment.objects.create(
                case=case,
                application=case.permit,
                kind=AttachmentKind.DOCUMENT,
                uploader=actor.user,
                requirement="review_report",
                filename=(getattr(report, "name", "") or "")[:200],
                storage_key=stored.storage_key,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
            )
        review.recommendation, review.note, review.inspection_date = recommendation, note, inspection_date
        review.recorded_by, review.recorded_at = actor.user, timezone.now()
        review.save()
    return review


def assess_fee(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """Work out the fee from the type's rule and the form answers, and give the applicant a payment reference."""
    case = _permit_case(actor, case_id)
    application = case.permit
    rule = application.type_version.fee
    if not fees.required(rule):
        raise DomainError(PermitErrorCode.INVALID_STATE, _("This permit has no fee: it can be approved directly."))
    try:
        amount = fees.amount(rule, application.form_data)
    except fees.FeeError as exc:
        raise DomainError(PermitErrorCode.FEE_INVALID, str(exc), field="fee") from None
    reference = f"IZN{secrets.randbelow(10**12):012d}"
    with transaction.atomic():
        transition(
            case,
            "assess_fee",
            actor=actor,
            expected_version=expected_version,
            payload={"amount": amount, "payment_reference": reference},
        )
        application.fee_amount, application.payment_reference = amount, reference
        application.save(update_fields=["fee_amount", "payment_reference", "updated_at"])
    return case


def record_payment(
    *,
    actor: Actor | None,
    case_id: int | None = None,
    reference: str = "",
    amount: int | None = None,
    expected_version: int | None = None,
) -> Case:
    """The fee is paid: recorded by staff (by case), or by the payment gateway's callback (`actor` None, by payment
    reference and amount, which must match)."""
    if actor is not None:
        case = _permit_case(actor, case_id)
        application = case.permit
    else:
        application = PermitApplication.objects.filter(payment_reference=reference, case__isnull=False).first()
        if application is None or not reference:
            raise DomainError(PermitErrorCode.NOT_FOUND, _("Unknown payment reference."), field="reference")
        if amount != application.fee_amount:
            raise DomainError(PermitErrorCode.PAYMENT_MISMATCH, _("The amount paid is not the fee."), field="amount")
        case = application.case
        if case.status == PermitStatus.PAID or application.paid_at is not None:
            raise DomainError(PermitErrorCode.ALREADY_DONE, _("This fee is paid already."))
    now = timezone.now()
    with transaction.atomic():
        transition(
            case,
            "record_payment",
            actor=actor,
            expected_version=expected_version,
            payload={"payment_reference": application.payment_reference, "via": "staff" if actor else "gateway"},
        )
        application.paid_at = now
        application.save(update_fields=["paid_at", "updated_at"])
    return case


def approve(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """The head of the handling agency signs: reviews are in and any fee is paid (the transition's guard)."""
    case = _permit_case(actor, case_id)
    with transaction.atomic():
        transition(case, "approve", actor=actor, expected_version=expected_version)
        case.permit.official_name = actor.user.full_name or actor.user.get_username()
        case.permit.save(update_fields=["official_name", "updated_at"])
    return case


def _permit_number(application: PermitApplication, issued_on: dt.date) -> str:
    """The next number of the type in the year, in the type's format; taken inside the issuing transaction, so
    numbers have no gaps (issuance of one type is serialised on the counter row, which is fine at its pace)."""
    version = application.type_version
    table = connection.ops.quote_name(PermitNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (permit_type_id, year, last_value) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (permit_type_id, year) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [version.permit_type_id, issued_on.year],
        )
        (number,) = cursor.fetchone()
    return version.number_format.format(
        seq=number,
        type=version.permit_type.code.upper(),
        agency=version.handling_agency.code.upper(),
        region=application.region.code,
        year=issued_on.year,
    )


def verify_url(application: PermitApplication) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("permit-verify", args=[application.verify_token])


def issue(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """Number the permit, date its validity, and store its certificate (PDF with the verification QR code)."""
    from backend.permits import certificate
    from media.documents import store_bytes

    case = _permit_case(actor, case_id)
    now = timezone.now()
    issued_on = now.astimezone(case.region.tz).date()
    with transaction.atomic():
        application = (
            PermitApplication.objects.select_for_update()
            .select_related("type_version__permit_type", "type_version__handling_agency", "region")
            .get(case=case)
        )
        validity = application.type_version.validity_days
        application.permit_number = _permit_number(application, issued_on)
        application.valid_from = issued_on
        application.valid_until = issued_on + dt.timedelta(days=validity - 1) if validity else None
        application.issued_at = now
        # The move is checked (role, state, version) before anything is written to storage; a refusal rolls the
        # number back with it.
        transition(
            case,
            "issue",
            actor=actor,
            expected_version=expected_version,
            payload={
                "permit_number": application.permit_number,
                "valid_from": application.valid_from.isoformat(),
                "valid_until": application.valid_until.isoformat() if application.valid_until else None,
            },
        )
        application.case = case
        pdf = certificate.render(application, verify_url=verify_url(application))
        key = store_bytes(pdf, prefix=f"permits/{case.region_id}/certificates", extension="pdf")
        application.certificate = Attachment.objects.create(
            case=case,
            application=application,
            kind=AttachmentKind.DOCUMENT,
            uploader=actor.user,
            requirement="certificate",
            filename=f"{application.permit_number.replace('/', '-')}.pdf",
            storage_key=key,
            content_type="application/pdf",
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
        )
        application.save()
    return case


def reject(*, actor: Actor, case_id: int, reasons: str, expected_version: int | None = None) -> Case:
    case = _permit_case(actor, case_id)
    return transition(
        case,
        "reject",
        actor=actor,
        expected_version=expected_version,
        payload={"reasons": note_text(reasons, field="reasons")},
    )


def reveal_nik(*, actor: Actor, case_id: int) -> str:
    """The applicant's full NIK, for the handling agency's staff only; each view is written on the timeline."""
    case = _permit_case(actor, case_id)
    transition(case, "reveal_nik", actor=actor)
    return nik.decrypt(case.permit.nik_encrypted)


def add_note(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    case = _permit_case(actor, case_id)
    payload = {"text": note_text(text, field="text")}
    return transition(case, "note", actor=actor, expected_version=expected_version, payload=payload)


def revoke(*, actor: Actor, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """The region admin withdraws an issued permit; its verification page says so from now on."""
    case = _permit_case(actor, case_id)
    reason = note_text(reason, field="reason")
    with transaction.atomic():
        transition(case, "revoke", actor=actor, expected_version=expected_version, payload={"reason": reason})
        case.permit.revoked_at, case.permit.revoke_reason = timezone.now(), reason
        case.permit.save(update_fields=["revoked_at", "revoke_reason", "updated_at"])
    return case
