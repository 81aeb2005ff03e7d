"""The permit-type catalogue: a region's types, each edited as a new version (never in place), with its form,
documents, fee formula, reviewing agencies and deadline."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.errors import DomainError, DomainErrors
from backend.permits import fees
from backend.permits.errors import PermitErrorCode
from backend.permits.models import (
    ApplicantKind,
    PermitType,
    PermitTypeVersion,
)
from backend.regions.models import Agency, Region


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
            and isinstance(doc.get("personal", False), bool)
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
