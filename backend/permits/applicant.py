"""The applicant's side of a permit: the draft and its documents, submission (the case opens), resubmission after
a revision request, withdrawal and messages. jsonschema and the document pipeline (Pillow) are imported where first
needed, so a web process that never handles a permit never loads them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.models import Case, CaseKind
from backend.cases.opening import allocate_tracking_code, open_case
from backend.cases.services import clock_resume, note_text, transition
from backend.errors import DomainError, DomainErrors
from backend.forms import form_errors
from backend.permits import nik
from backend.permits.catalogue import current_version
from backend.permits.errors import PermitErrorCode
from backend.permits.models import (
    ApplicantKind,
    PermitApplication,
    PermitType,
)
from backend.permits.workflow import PermitStatus
from backend.regions import calendar
from backend.regions import selectors as region_selectors
from backend.regions.models import Region
from media.models import Attachment, AttachmentKind
from media.storage import delete_files


def _require_user(actor: Actor):
    if actor is None or actor.user is None:
        raise DomainError(PermitErrorCode.NOT_AUTHENTICATED, _("Sign in first."))
    return actor.user


def _region(slug_or_code: str) -> Region:
    region = region_selectors.region_by_slug_or_code(slug_or_code)
    if region is None:
        raise DomainError(PermitErrorCode.UNKNOWN_REGION, _("Unknown region."), field="region")
    return region


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
    """Save progress. Only what is given changes; the form is checked fully on submission, the NIK and NIB now. In a
    revision round only what the office named may change (the rest may be sent again unchanged)."""
    application = _own_application(actor, application_id, editable=True)
    changes = {
        "applicantName": applicant_name is not None and " ".join(applicant_name.split()) != application.applicant_name,
        "nik": nik_value is not None and _nik_changes(application, nik_value),
        "businessName": business_name is not None
        and " ".join(business_name.split())[:200] != application.business_name,
        "nib": nib is not None and nib.strip() != application.nib,
        **{f"form.{key}": True for key in _changed_answers(application.form_data, form_data)},
    }
    errors, warnings = _unasked_changes(application, changes), []
    _mark_revised(application, fields={name.removeprefix("form.") for name, changed in changes.items() if changed})
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


def _revision_asks(application: PermitApplication) -> tuple[set[str], set[str]] | None:
    """In a revision round, the form fields (top level) and documents the office named; None for a draft."""
    if not application.case_id:
        return None
    items = application.revision_items or []
    fields = {_named_field(item) for item in items if item.get("field")}
    return fields, {item["document"] for item in items if item.get("document")}


def _named_field(item: dict) -> str:
    """The form field (top level) a revision item names, or ""."""
    return (item.get("field") or "").split(".")[0]


def _unasked_changes(application: PermitApplication, changes: dict[str, bool]) -> list[DomainError]:
    """A refusal for each field a revision changes that the office did not name (`form.x` names form field x)."""
    asked = _revision_asks(application)
    if asked is None:
        return []
    return [
        DomainError(
            PermitErrorCode.INVALID_STATE,
            _("The office did not ask to revise this: send it unchanged."),
            field=name,
        )
        for name, changed in changes.items()
        if changed and name.removeprefix("form.") not in asked[0]
    ]


def _mark_revised(application: PermitApplication, *, fields: set[str] = frozenset(), document: str = "") -> None:
    """In a revision round, mark the office's items the applicant has changed (`revised`), so that the resubmission
    records what was revised and what was sent back unchanged. The caller saves the application."""
    if not application.case_id:
        return
    for item in application.revision_items:
        named = _named_field(item)
        if (named and named in fields) or (document and item.get("document") == document):
            item["revised"] = True


def _nik_changes(application: PermitApplication, value: str) -> bool:
    try:
        return nik.lookup_hash(nik.check_nik(value).value) != application.nik_hash
    except nik.NikError:
        return True


def _changed_answers(before: dict, after) -> set[str]:
    if not isinstance(after, dict):
        return set()
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key)}


def _document_asked(application: PermitApplication, requirement: str) -> None:
    asked = _revision_asks(application)
    if asked is not None and requirement not in asked[1]:
        raise DomainError(
            PermitErrorCode.INVALID_STATE,
            _("The office did not ask to revise this document."),
            field="requirement",
        )


def attach_document(*, actor: Actor, application_id: int, requirement: str, upload) -> Attachment:
    """Attach one file for one of the type's required documents; for a document that is one file, it replaces the
    previous one."""
    from media.documents import DocumentRejected, store_document

    application = _own_application(actor, application_id, editable=True)
    spec = application.type_version.requirement(requirement)
    if spec is None:
        raise DomainError(PermitErrorCode.INVALID, _("This permit asks for no such document."), field="requirement")
    _document_asked(application, requirement)
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
        raise DomainError(refused.code, message, field="file") from None
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
        _mark_revised(application, document=requirement)
        if application.case_id:
            application.save(update_fields=["revision_items", "updated_at"])
        transaction.on_commit(lambda: delete_files(replaced))
    return document


def remove_document(*, actor: Actor, document_id) -> None:
    user = _require_user(actor)
    document = (
        Attachment.objects.filter(pk=document_id, application__applicant=user).select_related("application").first()
    )
    if document is None:
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such document."), field="documentId")
    application = _own_application(actor, document.application_id, editable=True)
    _document_asked(application, document.requirement)
    key = document.storage_key
    with transaction.atomic():
        document.delete()
        _mark_revised(application, document=document.requirement)
        if application.case_id:
            application.save(update_fields=["revision_items", "updated_at"])
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
    payload = {"reason": note_text(reason, field="reason", required=False)}
    return transition(case, "withdraw", actor=actor, expected_version=expected_version, payload=payload)


def send_message(*, actor: Actor, case_id: int, text: str, expected_version: int | None = None) -> Case:
    """The one way applicant and officials talk: a message on the case's timeline, seen by both."""
    user = _require_user(actor)
    case = Case.objects.filter(pk=case_id, kind=CaseKind.PERMIT).select_related("region").first()
    if case is None or (case.resident_id != user.pk and not actor.works_in_region(case.region_id)):
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such application."), field="caseId")
    payload = {"text": note_text(text, field="text")}
    return transition(case, "message", actor=actor, expected_version=expected_version, payload=payload)
