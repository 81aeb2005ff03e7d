"""Writes of online permits: permit types (versioned), the applicant's draft and documents, submission, and every
step of the review — each step a move of the case through `transition()` (backend.permits.workflow.PERMIT).

KPK's point in backing online permits is that applicant and official never meet: every step is on the case's
timeline, messages go through it too, and the clock is public.

jsonschema, the document pipeline (Pillow) and ReportLab are imported where they are first needed, so a web process
that never handles a permit never loads them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, CaseKind
from backend.cases.opening import allocate_tracking_code, open_case
from backend.cases.services import clock_pause, clock_resume, staff_case, transition
from backend.errors import DomainError, DomainErrors
from backend.forms import form_errors
from backend.permits import fees, nik
from backend.permits.errors import PermitErrorCode
from backend.permits.models import (
    ApplicantKind,
    PermitApplication,
    PermitNumberSequence,
    PermitReview,
    PermitType,
    PermitTypeVersion,
    Recommendation,
)
from backend.permits.workflow import PermitStatus
from backend.regions import calendar
from backend.regions import selectors as region_selectors
from backend.regions.models import Agency, Region
from media.models import Attachment, AttachmentKind
from media.storage import delete_files

TEXT_MAX = 4000
REPORT_MAX_BYTES = 10 * 1024 * 1024


def _require_user(actor: Actor):
    if actor is None or actor.user is None:
        raise DomainError(PermitErrorCode.NOT_AUTHENTICATED, _("Sign in first."))
    return actor.user


def _text(value: str, *, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > TEXT_MAX:
        raise DomainError(PermitErrorCode.INVALID, _("Write up to 4000 characters."), field=field)
    return value


def _region(slug_or_code: str) -> Region:
    region = region_selectors.region_by_slug_or_code(slug_or_code)
    if region is None:
        raise DomainError(PermitErrorCode.UNKNOWN_REGION, _("Unknown region."), field="region")
    return region


# --- permit types ----------------------------------------------------------------------------------------------------


@dataclass
class TypeEdition:
    """What a permit type version says (see PermitTypeVersion)."""

    name_id: str
    name_en: str
    handling_agency_id: int
    sla_working_days: int
    applicant_kinds: list[str]
    form_schema: dict
    documents: list[dict]
    fee: dict
    description: str = ""
    reviewing_agency_ids: list[int] | None = None
    validity_days: int | None = None
    deemed_approval: bool = False
    number_format: str = "{seq:04d}/{type}/{agency}/{year}"


def edition_errors(region: Region, edition: TypeEdition) -> list[DomainError]:
    """Everything wrong with a permit type edition for this region (the admin form shows them per field)."""
    import jsonschema

    errors = []

    def bad(field, message):
        errors.append(DomainError(PermitErrorCode.INVALID, message, field=field))

    if not edition.name_id.strip() or not edition.name_en.strip():
        bad("name", _("Give the permit's name in Bahasa Indonesia and in English."))
    agencies = set(Agency.objects.filter(region=region).values_list("pk", flat=True))
    if edition.handling_agency_id not in agencies:
        bad("handlingAgency", _("The handling agency must be an agency of the region."))
    if set(edition.reviewing_agency_ids or ()) - agencies:
        bad("reviewingAgencies", _("Reviewing agencies must be agencies of the region."))
    if not edition.applicant_kinds or set(edition.applicant_kinds) - set(ApplicantKind.values):
        bad("applicantKinds", _("Choose who may apply: individuals, businesses or both."))
    if not 1 <= edition.sla_working_days <= 365:
        bad("slaWorkingDays", _("The service standard is 1 to 365 working days."))
    try:
        jsonschema.Draft202012Validator.check_schema(edition.form_schema)
        if edition.form_schema.get("type") != "object":
            raise jsonschema.SchemaError("the form must be an object")
    except jsonschema.SchemaError as exc:
        bad("formSchema", _("The form is not a valid JSON Schema of an object: %(error)s") % {"error": exc.message})
    codes = set()
    for index, doc in enumerate(edition.documents):
        ok = (
            isinstance(doc, dict)
            and isinstance(doc.get("code"), str)
            and doc["code"]
            and doc["code"] not in codes
            and doc.get("name_id")
            and doc.get("name_en")
            and isinstance(doc.get("types"), list)
            and doc["types"]
            and set(doc["types"]) <= {"pdf", "jpeg", "png", "webp"}
            and isinstance(doc.get("max_bytes"), int)
            and 1024 <= doc["max_bytes"] <= 20 * 1024 * 1024
            and isinstance(doc.get("required"), bool)
            and isinstance(doc.get("many"), bool)
        )
        if not ok:
            bad(
                f"documents.{index}",
                _(
                    "Each document needs a unique code, names, accepted types, a size limit, "
                    "and whether it is required and whether several are allowed."
                ),
            )
        else:
            codes.add(doc["code"])
    try:
        fees.check_rule(edition.fee)
        if edition.fee.get("kind") == "formula":
            unknown = fees.formula_fields(edition.fee["expression"]) - set(edition.form_schema.get("properties", {}))
            if unknown:
                raise fees.FeeError(
                    _("The formula reads fields the form does not have: %(f)s.") % {"f": ", ".join(sorted(unknown))}
                )
    except fees.FeeError as exc:
        errors.append(DomainError(PermitErrorCode.FEE_INVALID, str(exc), field="fee"))
    if edition.validity_days is not None and not 1 <= edition.validity_days <= 36500:
        bad("validityDays", _("Validity is 1 day to 100 years, or indefinite."))
    try:
        edition.number_format.format(seq=1, type="T", agency="A", year=2026, region="R")
    except (KeyError, ValueError, IndexError):
        bad("numberFormat", _("The number format may use {seq}, {type}, {agency}, {region} and {year}."))
    return errors


def save_permit_type(*, actor: Actor, region_id: int, code: str, edition: TypeEdition) -> PermitTypeVersion:
    """Create a permit type, or edit one: either way a new version, so applications already filed keep theirs."""
    if not actor.administers(region_id):
        raise DomainError(PermitErrorCode.FORBIDDEN, _("Only the region's admins manage permit types."))
    region = Region.objects.get(pk=region_id)
    code = (code or "").strip().lower()
    errors = edition_errors(region, edition)
    if not code or len(code) > 40 or not code.replace("-", "").isalnum():
        errors.insert(
            0, DomainError(PermitErrorCode.INVALID, _("Codes are letters, digits and hyphens."), field="code")
        )
    if errors:
        raise DomainErrors(errors)
    with transaction.atomic():
        permit_type, _created = PermitType.objects.get_or_create(region=region, code=code)
        last = permit_type.versions.select_for_update().order_by("-number").first()
        version = PermitTypeVersion.objects.create(
            permit_type=permit_type,
            number=(last.number + 1) if last else 1,
            name_id=edition.name_id.strip(),
            name_en=edition.name_en.strip(),
            description=edition.description.strip(),
            handling_agency_id=edition.handling_agency_id,
            applicant_kinds=sorted(set(edition.applicant_kinds)),
            form_schema=edition.form_schema,
            documents=edition.documents,
            sla_working_days=edition.sla_working_days,
            fee=edition.fee or {"kind": "none"},
            validity_days=edition.validity_days,
            deemed_approval=edition.deemed_approval,
            number_format=edition.number_format,
            created_by=actor.user,
        )
        version.reviewing_agencies.set(edition.reviewing_agency_ids or [])
    return version


def current_version(permit_type: PermitType) -> PermitTypeVersion:
    return permit_type.versions.order_by("-number").first()


def save_permit_type_row(*, actor: Actor, permittype: PermitType) -> PermitType:
    """The admin switches a type on or off (its content changes only by new versions)."""
    if not actor.administers(permittype.region_id):
        raise DomainError(PermitErrorCode.FORBIDDEN, _("Only the region's admins manage permit types."))
    PermitType.objects.filter(pk=permittype.pk).update(active=permittype.active)
    return permittype


# --- the applicant ---------------------------------------------------------------------------------------------------


def _own_application(actor: Actor, application_id: int, *, editable: bool) -> PermitApplication:
    user = _require_user(actor)
    application = (
        PermitApplication.objects.select_related("type_version__permit_type", "region", "case")
        .filter(pk=application_id, applicant=user)
        .first()
    )
    if application is None:
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such application."), field="applicationId")
    if editable and application.case_id and application.case.status != PermitStatus.REVISION_REQUESTED:
        raise DomainError(
            PermitErrorCode.INVALID_STATE,
            _("The application can be changed while it is a draft, or when the office asks for a revision."),
        )
    return application


def create_draft(*, actor: Actor, region: str, permit_type_code: str, applicant_kind: str) -> PermitApplication:
    """Start an application of the type's current version; fill it in and attach documents, then submit it."""
    user = _require_user(actor)
    region_row = _region(region)
    permit_type = PermitType.objects.filter(region=region_row, code=permit_type_code, active=True).first()
    version = current_version(permit_type) if permit_type else None
    if version is None:
        raise DomainError(PermitErrorCode.UNKNOWN_PERMIT_TYPE, _("Unknown permit type."), field="permitType")
    if applicant_kind not in version.applicant_kinds:
        raise DomainError(
            PermitErrorCode.INVALID, _("This permit is not for this kind of applicant."), field="applicantKind"
        )
    return PermitApplication.objects.create(
        region=region_row,
        type_version=version,
        applicant=user,
        applicant_kind=applicant_kind,
        applicant_name=user.full_name,
    )


@dataclass(frozen=True)
class Updated:
    application: PermitApplication
    warnings: list[str]


def update_application(
    *,
    actor: Actor,
    application_id: int,
    applicant_name: str | None = None,
    nik_value: str | None = None,
    business_name: str | None = None,
    nib: str | None = None,
    form_data: dict | None = None,
) -> Updated:
    """Save progress. Only what is given changes; the form is checked fully on submission, the NIK and NIB now."""
    application = _own_application(actor, application_id, editable=True)
    errors, warnings = [], []
    if applicant_name is not None:
        applicant_name = " ".join(applicant_name.split())
        if len(applicant_name) > 150:
            errors.append(DomainError(PermitErrorCode.INVALID, _("The name is too long."), field="applicantName"))
        application.applicant_name = applicant_name
    if nik_value is not None:
        try:
            checked = nik.check_nik(nik_value)
        except nik.NikError as exc:
            errors.append(DomainError(PermitErrorCode.NIK_INVALID, str(exc), field="nik"))
        else:
            warnings.extend(checked.warnings)
            application.nik_encrypted = nik.encrypt(checked.value)
            application.nik_hash = nik.lookup_hash(checked.value)
            application.nik_masked = nik.mask(checked.value)
    if business_name is not None:
        application.business_name = " ".join(business_name.split())[:200]
    if nib is not None:
        nib = nib.strip()
        if nib and (len(nib) != 13 or not nib.isdigit()):
            errors.append(DomainError(PermitErrorCode.INVALID, _("An NIB has 13 digits."), field="nib"))
        application.nib = nib
    if form_data is not None:
        if not isinstance(form_data, dict):
            errors.append(DomainError(PermitErrorCode.FORM_INVALID, _("The form answers are an object."), field="form"))
        else:
            application.form_data = form_data
    if errors:
        raise DomainErrors(errors)
    application.save()
    return Updated(application, warnings)


def attach_document(*, actor: Actor, application_id: int, requirement: str, upload) -> Attachment:
    """Attach one file for one of the type's required documents; for a document that is one file, it replaces the
    previous one."""
    from media.documents import DocumentRejected, store_document

    application = _own_application(actor, application_id, editable=True)
    spec = application.type_version.requirement(requirement)
    if spec is None:
        raise DomainError(PermitErrorCode.INVALID, _("This permit asks for no such document."), field="requirement")
    try:
        stored = store_document(
            upload,
            prefix=f"permits/{application.region_id}/{application.pk}",
            accepted=tuple(spec["types"]),
            max_bytes=spec["max_bytes"],
        )
    except DocumentRejected as refused:
        message = refused.message
        if refused.accepted:
            message = _("Accepted here: %(types)s.") % {"types": ", ".join(t.upper() for t in refused.accepted)}
        raise DomainError(PermitErrorCode(str(refused.code)), message, field="file") from None
    try:
        document = _save_document(actor, application, requirement, spec, stored, upload)
    except Exception:
        delete_files([stored.storage_key])  # the row was not written: do not keep its file
        raise
    return document


def _save_document(actor, application, requirement, spec, stored, upload) -> Attachment:
    with transaction.atomic():
        replaced = []
        if not spec["many"]:
            previous = Attachment.objects.filter(application=application, requirement=requirement)
            replaced = list(previous.values_list("storage_key", flat=True))
            previous.delete()
        document = Attachment.objects.create(
            application=application,
            case=application.case,
            kind=AttachmentKind.DOCUMENT,
            uploader=actor.user,
            requirement=requirement,
            filename=(getattr(upload, "name", "") or "")[:200],
            position=Attachment.objects.filter(application=application, requirement=requirement).count(),
            storage_key=stored.storage_key,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            width=stored.width,
            height=stored.height,
        )
        transaction.on_commit(lambda: delete_files(replaced))
    return document


def remove_document(*, actor: Actor, document_id) -> None:
    user = _require_user(actor)
    document = (
        Attachment.objects.filter(pk=document_id, application__applicant=user).select_related("application").first()
    )
    if document is None:
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such document."), field="documentId")
    _own_application(actor, document.application_id, editable=True)
    key = document.storage_key
    document.delete()
    transaction.on_commit(lambda: delete_files([key]))


def _completeness_errors(application: PermitApplication) -> list[DomainError]:
    """Everything that keeps the application from being a complete file, at once."""
    import jsonschema

    version = application.type_version
    errors = []
    if not application.applicant_name:
        errors.append(DomainError(PermitErrorCode.INVALID, _("Give the applicant's name."), field="applicantName"))
    if not application.nik_encrypted:
        errors.append(DomainError(PermitErrorCode.NIK_INVALID, _("Give the applicant's NIK."), field="nik"))
    if application.applicant_kind == ApplicantKind.BUSINESS:
        if not application.business_name:
            errors.append(DomainError(PermitErrorCode.INVALID, _("Give the business's name."), field="businessName"))
        if not application.nib:
            errors.append(DomainError(PermitErrorCode.INVALID, _("Give the business's NIB."), field="nib"))
    validator = jsonschema.Draft202012Validator(version.form_schema, format_checker=jsonschema.FormatChecker())
    errors.extend(
        DomainError(PermitErrorCode.FORM_INVALID, message, field=field)
        for field, message in form_errors(validator, application.form_data, prefix="form")
    )
    present = set(Attachment.objects.filter(application=application).values_list("requirement", flat=True))
    for spec in version.documents:
        if spec["required"] and spec["code"] not in present:
            errors.append(
                DomainError(
                    PermitErrorCode.DOCUMENT_MISSING,
                    _("Attach: %(name)s.") % {"name": spec["name_en" if get_language() == "en" else "name_id"]},
                    field=f"documents.{spec['code']}",
                )
            )
    return errors


def submit_application(*, actor: Actor, application_id: int) -> Case:
    """File a complete application: it becomes a case at the handling agency (usually DPMPTSP), with its tracking
    code, and the service-standard clock starts (working days from now: the file is complete)."""
    application = _own_application(actor, application_id, editable=True)
    if application.case_id:
        raise DomainError(PermitErrorCode.INVALID_STATE, _("This application was submitted already."))
    errors = _completeness_errors(application)
    if errors:
        raise DomainErrors(errors)
    version, region = application.type_version, application.region
    now = timezone.now()
    tracking_code = allocate_tracking_code(region=region, kind=CaseKind.PERMIT, at=now)
    with transaction.atomic():
        locked = PermitApplication.objects.select_for_update().get(pk=application.pk)
        if locked.case_id:
            raise DomainError(PermitErrorCode.INVALID_STATE, _("This application was submitted already."))
        case = open_case(
            actor=actor,
            fields={
                "kind": CaseKind.PERMIT,
                "region": region,
                "resident": actor.user,
                "agency": version.handling_agency,
                "status": PermitStatus.SUBMITTED,
                "submitted_at": now,
                "due_at": calendar.add_working_days(region, now, version.sla_working_days),
                "tracking_code": tracking_code,
            },
            event_payload={
                "permit_type": version.permit_type.code,
                "version": version.number,
                "agency": version.handling_agency.code,
            },
        )
        locked.case = case
        locked.save(update_fields=["case", "updated_at"])
        Attachment.objects.filter(application=locked).update(case=case)
    return case


def _applicant_case(actor: Actor, case_id: int) -> tuple[Case, PermitApplication]:
    user = _require_user(actor)
    case = Case.objects.filter(pk=case_id, kind=CaseKind.PERMIT, resident=user).select_related("region").first()
    if case is None:
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such application."), field="caseId")
    return case, case.permit


def resubmit(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """Send the revised file back; the clock runs again with the working time it had left."""
    case, application = _applicant_case(actor, case_id)
    if case.status == PermitStatus.REVISION_REQUESTED:
        errors = _completeness_errors(application)
        if errors:
            raise DomainErrors(errors)
    with transaction.atomic():
        transition(
            case,
            "resubmit",
            actor=actor,
            expected_version=expected_version,
            changes=clock_resume(case, timezone.now()),
            payload={"answered": application.revision_items},
        )
        application.revision_items = []
        application.save(update_fields=["revision_items", "updated_at"])
    return case


def withdraw(*, actor: Actor, case_id: int, reason: str = "", expected_version: int | None = None) -> Case:
    case, _application = _applicant_case(actor, case_id)
    payload = {"reason": _text(reason, field="reason", required=False)}
    return transition(case, "withdraw", actor=actor, expected_version=expected_version, payload=payload)


def send_message(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    """The one way applicant and officials talk: a message on the case's timeline, seen by both."""
    user = _require_user(actor)
    case = Case.objects.filter(pk=case_id, kind=CaseKind.PERMIT).select_related("region").first()
    if case is None or (case.resident_id != user.pk and not actor.works_in_region(case.region_id)):
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such application."), field="caseId")
    payload = {"text": _text(text, field="text")}
    return transition(case, "message", actor=actor, expected_version=expected_version, payload=payload)


# --- the office and the reviewing agencies ---------------------------------------------------------------------------


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
        if not known or bool(document) == bool(target_field) or not note or len(note) > TEXT_MAX:
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


def send_to_review(*, actor: Actor, case_id: int, agency_ids: list[int] | None = None) -> Case:
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
        transition(case, "send_to_review", actor=actor, payload={"agencies": sorted(a.code for a in agencies)})
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
    note = _text(note, field="note")
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
            raise DomainError(PermitErrorCode(str(refused.code)), refused.message, field="report") from None
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
        payload={"reasons": _text(reasons, field="reasons")},
    )


def reveal_nik(*, actor: Actor, case_id: int) -> str:
    """The applicant's full NIK, for the handling agency's staff only; each view is written on the timeline."""
    case = _permit_case(actor, case_id)
    transition(case, "reveal_nik", actor=actor)
    return nik.decrypt(case.permit.nik_encrypted)


def add_note(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    case = _permit_case(actor, case_id)
    payload = {"text": _text(text, field="text")}
    return transition(case, "note", actor=actor, expected_version=expected_version, payload=payload)


def revoke(*, actor: Actor, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """The region admin withdraws an issued permit; its verification page says so from now on."""
    case = _permit_case(actor, case_id)
    reason = _text(reason, field="reason")
    with transaction.atomic():
        transition(case, "revoke", actor=actor, expected_version=expected_version, payload={"reason": reason})
        case.permit.revoked_at, case.permit.revoke_reason = timezone.now(), reason
        case.permit.save(update_fields=["revoked_at", "revoke_reason", "updated_at"])
    return case


def flag_deemed_approvals(*, now: dt.datetime | None = None) -> int:
    """Fiktif positif (UU 30/2014 art. 53, as amended by UU 6/2023): for types that say so, a case whose deadline
    passed without a decision is flagged, once, on its timeline and to the region's admins."""
    from backend.accounts.models import Membership, Role

    now = now or timezone.now()
    due = PermitApplication.objects.filter(
        type_version__deemed_approval=True,
        deemed_flagged_at__isnull=True,
        case__due_at__lt=now,
        case__sla_paused_at__isnull=True,
        case__status__in=[
            PermitStatus.SUBMITTED,
            PermitStatus.VERIFICATION,
            PermitStatus.RESUBMITTED,
            PermitStatus.TECHNICAL_REVIEW,
            PermitStatus.FEE_ASSESSED,
            PermitStatus.PAID,
        ],
    ).select_related("case__region")
    flagged = 0
    for application in due:
        admins = Membership.objects.filter(region_id=application.region_id, role=Role.REGION_ADMIN).values_list(
            "user_id", flat=True
        )
        with transaction.atomic():
            transition(
                application.case,
                "flag_deemed_approval",
                actor=None,
                payload={"due_at": application.case.due_at.isoformat()},
                notify=list(admins),
            )
            PermitApplication.objects.filter(pk=application.pk).update(deemed_flagged_at=now)
        flagged += 1
    return flagged
