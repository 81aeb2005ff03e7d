"""Online permits in the API: permit types and their forms, the applicant's applications, every review step, and
public verification. The NIK is never in a response unmasked, except to the handling agency's staff through
`revealPermitNik`, which writes each view on the case's timeline."""

from __future__ import annotations

import graphene
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from backend.cases.workflow import STATUS_LABELS
from backend.errors import DomainError
from backend.forms import localized
from backend.permits import applicant, catalogue, office, selectors
from backend.permits.errors import PermitErrorCode
from backend.permits.models import ApplicantKind, PermitApplication, PermitReview, Recommendation
from backend.regions import selectors as region_selectors
from media.storage import url_for
from schema.cases.types import CaseNode
from schema.cases.work import OnCase, OnCaseVersion, case_pk
from schema.errors import DomainMutation, error_type
from schema.fields import KeysetConnectionField, node_pk
from schema.regions import AgencyNode
from schema.uploads import Upload

PermitError = error_type("PermitError", PermitErrorCode, "applying for or handling a permit")
ApplicantKindEnum = graphene.Enum.from_enum(ApplicantKind, name="ApplicantKind")
RecommendationEnum = graphene.Enum.from_enum(Recommendation, name="Recommendation")
ValidityEnum = graphene.Enum.from_enum(selectors.Validity, name="PermitValidity")


def _localized(row: dict, base: str) -> str:
    return row[f"{base}_en"] if get_language() == "en" else row[f"{base}_id"]


class DocumentRequirement(graphene.ObjectType):
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    types = graphene.List(graphene.NonNull(graphene.String), required=True, description="pdf, jpeg, png, webp")
    max_bytes = graphene.Int(required=True)
    required = graphene.Boolean(required=True)
    many = graphene.Boolean(required=True, description="Several files may be attached (else one replaces another).")
    personal = graphene.Boolean(
        required=True,
        description="An identity document (such as the KTP): seen, like the whole NIK, only by the applicant and the "
        "handling agency's staff.",
    )

    @staticmethod
    def resolve_name(row, info):
        return _localized(row, "name")

    @staticmethod
    def resolve_max_bytes(row, info):
        return row["max_bytes"]

    @staticmethod
    def resolve_personal(row, info):
        return bool(row.get("personal"))


class PermitTypeVersionType(graphene.ObjectType):
    """One edition of a permit type: what an application filed under it was asked."""

    class Meta:
        name = "PermitTypeVersion"

    code = graphene.String(required=True)
    version = graphene.Int(required=True)
    name = graphene.String(required=True, description="In the request's language.")
    description = graphene.String(required=True)
    handling_agency = graphene.Field(AgencyNode, required=True)
    reviewing_agencies = graphene.List(graphene.NonNull(AgencyNode), required=True)
    applicant_kinds = graphene.List(graphene.NonNull(ApplicantKindEnum), required=True)
    form_schema = GenericScalar(
        required=True,
        description="A JSON Schema (2020-12) of the form: render it. Its titles are in the request's language.",
    )
    documents = graphene.List(graphene.NonNull(DocumentRequirement), required=True)
    sla_working_days = graphene.Int(required=True, description="Working days from a complete file to a decision.")
    fee = GenericScalar(
        required=True, description="none, fixed {amount}, formula {expression} or table {field, brackets}."
    )
    validity_days = graphene.Int(description="Null: valid indefinitely.")
    deemed_approval = graphene.Boolean(required=True, description="Fiktif positif applies when the deadline passes.")

    @staticmethod
    def resolve_code(version, info):
        return version.permit_type.code

    @staticmethod
    def resolve_form_schema(version, info):
        return localized(version.form_schema, get_language())

    @staticmethod
    def resolve_version(version, info):
        return version.number

    @staticmethod
    def resolve_name(version, info):
        return version.name(get_language())

    @staticmethod
    def resolve_reviewing_agencies(version, info):
        return version.reviewing_agencies.all()

    @staticmethod
    def resolve_applicant_kinds(version, info):
        return [ApplicantKind(kind) for kind in version.applicant_kinds]


class PermitDocument(DjangoObjectType):
    url = graphene.String(required=True, description="The file; the link expires.")

    class Meta:
        from media.models import Attachment

        model = Attachment
        name = "PermitDocument"
        fields = ("id", "requirement", "filename", "content_type", "size", "created_at")

    @staticmethod
    def resolve_url(document, info):
        url = url_for(document.storage_key, download_as=document.filename or "document")
        return info.context.request.build_absolute_uri(url)


class PermitReviewType(DjangoObjectType):
    recommendation = graphene.Field(RecommendationEnum)
    report = graphene.Field(PermitDocument)
    agency = graphene.Field(AgencyNode, required=True)

    class Meta:
        model = PermitReview
        name = "PermitReview"
        fields = ("note", "inspection_date", "recorded_at")

    @staticmethod
    def resolve_recommendation(review, info):
        return Recommendation(review.recommendation) if review.recommendation else None


class PermitApplicationNode(DjangoObjectType):
    status = graphene.String(required=True, description="`draft` until submitted, then the case's status.")
    status_label = graphene.String(required=True)
    case = graphene.Field(CaseNode, description="Null while a draft.")
    permit_type = graphene.Field(PermitTypeVersionType, required=True, description="The version applied under.")
    applicant_kind = graphene.Field(ApplicantKindEnum, required=True)
    nik = graphene.String(description="Masked, e.g. 1606••••••••0001: the full NIK is never sent here.")
    form = GenericScalar(required=True)
    revision_items = GenericScalar(required=True, description="What the office asked to revise (open round).")
    documents = graphene.List(graphene.NonNull(PermitDocument), required=True)
    reviews = graphene.List(
        graphene.NonNull(PermitReviewType), required=True, description="Technical reviews: staff of the region only."
    )
    certificate_url = graphene.String(description="The issued certificate (PDF); the link expires.")
    verify_url = graphene.String(description="The public verification page (printed as a QR code).")

    class Meta:
        model = PermitApplication
        name = "PermitApplication"
        interfaces = (relay.Node,)
        fields = (
            "applicant_name",
            "business_name",
            "nib",
            "fee_amount",
            "payment_reference",
            "paid_at",
            "permit_number",
            "valid_from",
            "valid_until",
            "issued_at",
            "official_name",
            "revoked_at",
            "revoke_reason",
            "created_at",
        )

    @classmethod
    def get_node(cls, info, id):
        application = PermitApplication.objects.filter(pk=id).select_related("case", "type_version").first()
        if application is None or not selectors.can_see(info.context.actor, application):
            return None
        return application

    @staticmethod
    def resolve_status(application, info):
        return application.case.status if application.case_id else "draft"

    @staticmethod
    def resolve_status_label(application, info):
        return (
            str(STATUS_LABELS.get(application.case.status, application.case.status))
            if application.case_id
            else _("draft")
        )

    @staticmethod
    def resolve_permit_type(application, info):
        return application.type_version

    @staticmethod
    def resolve_applicant_kind(application, info):
        return ApplicantKind(application.applicant_kind)

    @staticmethod
    def resolve_nik(application, info):
        return application.nik_masked or None

    @staticmethod
    def resolve_form(application, info):
        return application.form_data

    @staticmethod
    def resolve_documents(application, info):
        return selectors.documents(info.context.actor, application)

    @staticmethod
    def resolve_reviews(application, info):
        if not info.context.actor.works_in_region(application.region_id):
            return []
        return application.reviews.select_related("agency", "report").order_by("agency__code")

    @staticmethod
    def resolve_certificate_url(application, info):
        if application.certificate_id is None:
            return None
        url = url_for(application.certificate.storage_key, download_as=f"{application.case.tracking_code}.pdf")
        return info.context.request.build_absolute_uri(url)

    @staticmethod
    def resolve_verify_url(application, info):
        return office.verify_url(application) if application.issued_at else None


class PermitVerification(graphene.ObjectType):
    validity = graphene.Field(ValidityEnum, required=True)
    permit_number = graphene.String()
    permit_name = graphene.String()
    holder = graphene.String()
    valid_from = graphene.Date()
    valid_until = graphene.Date()
    issued_by = graphene.String()
    region = graphene.String()
    revoked_at = graphene.DateTime()
    revoke_reason = graphene.String()


class PermitQueries(graphene.ObjectType):
    permit_types = graphene.List(
        graphene.NonNull(PermitTypeVersionType),
        required=True,
        region=graphene.String(required=True),
        description="The permits a region issues (current versions), with their forms to render.",
    )
    my_permit_applications = KeysetConnectionField(
        PermitApplicationNode, keyset=selectors.NEWEST_FIRST, description="Yours, drafts included, newest first."
    )
    verify_permit = graphene.Field(
        PermitVerification,
        required=True,
        token=graphene.String(required=True),
        description="What a certificate's QR code leads to (public).",
    )

    @staticmethod
    def resolve_permit_types(root, info, region):
        row = region_selectors.region_by_slug_or_code(region)
        if row is None:
            return []
        return [catalogue.current_version(t) for t in selectors.region_permit_types(row)]

    @staticmethod
    def resolve_my_permit_applications(root, info, **kwargs):
        if info.context.user is None:
            return PermitApplication.objects.none()
        return selectors.my_applications(info.context.actor)

    @staticmethod
    def resolve_verify_permit(root, info, token):
        result = selectors.verify(token)
        application = result.application
        if application is None:
            return PermitVerification(validity=result.validity)
        return PermitVerification(
            validity=result.validity,
            permit_number=application.permit_number,
            permit_name=application.type_version.name(get_language()),
            holder=application.business_name or application.applicant_name,
            valid_from=application.valid_from,
            valid_until=application.valid_until,
            issued_by=application.type_version.handling_agency.name,
            region=application.region.name,
            revoked_at=application.revoked_at,
            revoke_reason=application.revoke_reason or None,
        )


# --- mutations ---------------------------------------------------------------------------------------------------


def _application_pk(global_id: str) -> int:
    pk = node_pk(global_id, "PermitApplication")
    if pk is None:
        raise DomainError(PermitErrorCode.NOT_FOUND, _("No such application."), field="applicationId")
    return pk


class ApplicationPayload:
    Error = PermitError
    application = graphene.Field(PermitApplicationNode)


class CreatePermitDraft(ApplicationPayload, DomainMutation):
    """Start an application (a draft only you see); fill it in, attach documents, then submit it."""

    class Arguments:
        region = graphene.String(required=True)
        permit_type = graphene.String(required=True, description="The type's code, e.g. `pbg`.")
        applicant_kind = ApplicantKindEnum(required=True)

    @classmethod
    def perform(cls, info, region, permit_type, applicant_kind):
        application = applicant.create_draft(
            actor=info.context.actor,
            region=region,
            permit_type_code=permit_type,
            applicant_kind=getattr(applicant_kind, "value", applicant_kind),
        )
        return cls(application=application, errors=[])


class UpdatePermitApplication(ApplicationPayload, DomainMutation):
    """Save progress on a draft (or on a file the office sent back for revision). Only the fields given change."""

    class Arguments:
        application_id = graphene.ID(required=True)
        applicant_name = graphene.String()
        nik = graphene.String(description="16 digits; stored encrypted and shown masked.")
        business_name = graphene.String()
        nib = graphene.String()
        form = GenericScalar(description="The form's answers (the whole object).")

    warnings = graphene.List(graphene.NonNull(graphene.String), required=True)

    @classmethod
    def perform(cls, info, application_id, applicant_name=None, nik=None, business_name=None, nib=None, form=None):
        updated = applicant.update_application(
            actor=info.context.actor,
            application_id=_application_pk(application_id),
            applicant_name=applicant_name,
            nik_value=nik,
            business_name=business_name,
            nib=nib,
            form_data=form,
        )
        return cls(application=updated.application, warnings=updated.warnings, errors=[])

    @classmethod
    def mutate(cls, root, info, **arguments):
        result = super().mutate(root, info, **arguments)
        if result.warnings is None:
            result.warnings = []
        return result


class AttachPermitDocument(ApplicationPayload, DomainMutation):
    """Attach one file (multipart request) for one of the permit's documents."""

    class Arguments:
        application_id = graphene.ID(required=True)
        requirement = graphene.String(required=True, description="The document's code in the permit type.")
        file = Upload(required=True)

    document = graphene.Field(PermitDocument)

    @classmethod
    def perform(cls, info, application_id, requirement, file):
        document = applicant.attach_document(
            actor=info.context.actor,
            application_id=_application_pk(application_id),
            requirement=requirement,
            upload=file,
        )
        return cls(application=document.application, document=document, errors=[])


class RemovePermitDocument(ApplicationPayload, DomainMutation):
    class Arguments:
        document_id = graphene.UUID(required=True)

    @classmethod
    def perform(cls, info, document_id):
        from media.models import Attachment

        application_id = Attachment.objects.filter(pk=document_id).values_list("application_id", flat=True).first()
        applicant.remove_document(actor=info.context.actor, document_id=document_id)
        return cls(application=PermitApplication.objects.filter(pk=application_id).first(), errors=[])


class SubmitPermitApplication(ApplicationPayload, DomainMutation):
    """File the application: every missing answer or document is reported at once; when complete it gets its
    tracking code and the clock starts."""

    class Arguments:
        application_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, application_id):
        case = applicant.submit_application(actor=info.context.actor, application_id=_application_pk(application_id))
        return cls(application=case.permit, errors=[])


class PermitCaseWork(DomainMutation):
    """A mutation on a permit's case whose payload is the case as it is now."""

    class Meta:
        abstract = True

    Error = PermitError
    case = graphene.Field(CaseNode)


class RevisionItemInput(graphene.InputObjectType):
    field = graphene.String(description="A form field (or applicantName, nik, businessName, nib).")
    document = graphene.String(description="A document's code.")
    note = graphene.String(required=True)


class ResubmitPermitApplication(PermitCaseWork):
    """Applicant: send the revised file back (after updatePermitApplication and attachPermitDocument)."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        return cls(
            case=applicant.resubmit(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        )


class WithdrawPermitApplication(PermitCaseWork):
    """Applicant: withdraw the application."""

    class Arguments(OnCaseVersion):
        reason = graphene.String()

    @classmethod
    def perform(cls, info, case_id, reason=None, version=None):
        case = applicant.withdraw(
            actor=info.context.actor, case_id=case_pk(case_id), reason=reason or "", expected_version=version
        )
        return cls(case=case)


class SendPermitMessage(PermitCaseWork):
    """Applicant or staff: a message on the case's timeline, the one channel between them."""

    class Arguments(OnCaseVersion):
        text = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, text, version=None):
        case = applicant.send_message(
            actor=info.context.actor, case_id=case_pk(case_id), text=text, expected_version=version
        )
        return cls(case=case)


class StartPermitVerification(PermitCaseWork):
    """Handling agency: start checking the file."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = office.start_verification(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        return cls(case=case)


class RequestPermitRevision(PermitCaseWork):
    """Handling agency: say what to fix, per field or document; the clock stops until the applicant resubmits."""

    class Arguments(OnCaseVersion):
        items = graphene.List(graphene.NonNull(RevisionItemInput), required=True)

    @classmethod
    def perform(cls, info, case_id, items, version=None):
        case = office.request_revision(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            items=[dict(item) for item in items],
            expected_version=version,
        )
        return cls(case=case)


class SendPermitToReview(PermitCaseWork):
    """Handling agency: ask agencies (the type's reviewing agencies unless others are named) for a recommendation."""

    class Arguments(OnCase):
        agency_ids = graphene.List(graphene.NonNull(graphene.ID))

    @classmethod
    def perform(cls, info, case_id, agency_ids=None):
        case = office.send_to_review(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            agency_ids=[node_pk(agency_id, "Agency") or 0 for agency_id in agency_ids or []],
        )
        return cls(case=case)


class RecordPermitRecommendation(PermitCaseWork):
    """Reviewing agency: its recommendation, with the report (PDF, multipart) and any field inspection date."""

    class Arguments(OnCase):
        recommendation = RecommendationEnum(required=True)
        note = graphene.String(required=True)
        inspection_date = graphene.Date()
        report = Upload()

    @classmethod
    def perform(cls, info, case_id, recommendation, note, inspection_date=None, report=None):
        review = office.recommend(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            recommendation=getattr(recommendation, "value", recommendation),
            note=note,
            inspection_date=inspection_date,
            report=report,
        )
        return cls(case=review.application.case)


class AssessPermitFee(PermitCaseWork):
    """Handling agency: work out the fee and give the applicant a payment reference."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = office.assess_fee(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        return cls(case=case)


class RecordPermitPayment(PermitCaseWork):
    """Handling agency: the fee was paid (gateways use the signed callback instead)."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = office.record_payment(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        return cls(case=case)


class ApprovePermit(PermitCaseWork):
    """Head of the handling agency: approve (reviews in, fee paid)."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        return cls(case=office.approve(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version))


class IssuePermit(PermitCaseWork):
    """Handling agency: number the permit and issue its certificate (PDF with a verification QR code)."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        return cls(case=office.issue(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version))


class RejectPermit(PermitCaseWork):
    """Head of the handling agency: refuse, with the reasons."""

    class Arguments(OnCaseVersion):
        reasons = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, reasons, version=None):
        case = office.reject(
            actor=info.context.actor, case_id=case_pk(case_id), reasons=reasons, expected_version=version
        )
        return cls(case=case)


class RevokePermit(PermitCaseWork):
    """Region admin: revoke an issued permit; its verification page says so from now on."""

    class Arguments(OnCaseVersion):
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, reason, version=None):
        case = office.revoke(
            actor=info.context.actor, case_id=case_pk(case_id), reason=reason, expected_version=version
        )
        return cls(case=case)


class AddPermitNote(PermitCaseWork):
    """Staff: an internal note on the case (never shown to the applicant)."""

    class Arguments(OnCaseVersion):
        text = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, text, version=None):
        case = office.add_note(actor=info.context.actor, case_id=case_pk(case_id), text=text, expected_version=version)
        return cls(case=case)


class RevealPermitNik(DomainMutation):
    """Handling agency: the applicant's full NIK. Every view is written on the case's timeline."""

    class Arguments:
        case_id = graphene.ID(required=True)

    nik = graphene.String()
    Error = PermitError

    @classmethod
    def perform(cls, info, case_id):
        return cls(nik=office.reveal_nik(actor=info.context.actor, case_id=case_pk(case_id)), errors=[])


class PermitMutations(graphene.ObjectType):
    create_permit_draft = CreatePermitDraft.Field()
    update_permit_application = UpdatePermitApplication.Field()
    attach_permit_document = AttachPermitDocument.Field()
    remove_permit_document = RemovePermitDocument.Field()
    submit_permit_application = SubmitPermitApplication.Field()
    resubmit_permit_application = ResubmitPermitApplication.Field()
    withdraw_permit_application = WithdrawPermitApplication.Field()
    send_permit_message = SendPermitMessage.Field()
    start_permit_verification = StartPermitVerification.Field()
    request_permit_revision = RequestPermitRevision.Field()
    send_permit_to_review = SendPermitToReview.Field()
    record_permit_recommendation = RecordPermitRecommendation.Field()
    assess_permit_fee = AssessPermitFee.Field()
    record_permit_payment = RecordPermitPayment.Field()
    approve_permit = ApprovePermit.Field()
    issue_permit = IssuePermit.Field()
    reject_permit = RejectPermit.Field()
    revoke_permit = RevokePermit.Field()
    add_permit_note = AddPermitNote.Field()
    reveal_permit_nik = RevealPermitNik.Field()
