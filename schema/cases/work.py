"""Staff work on one case (and the reporter's answer to a request for information): one mutation per service of
backend.cases.services, each handing every argument it declares to that service."""

from __future__ import annotations

import graphene
from django.utils.translation import gettext as _

from backend.cases import services
from backend.cases.errors import CaseErrorCode, RejectReason
from backend.errors import DomainError, error_codes
from media.errors import MediaErrorCode
from schema.cases.types import CaseNode
from schema.errors import DomainMutation, error_type
from schema.fields import node_pk
from schema.uploads import Upload

# A case's moves refuse with the core's codes; resolving with a photo also with the photo pipeline's.
CaseError = error_type("CaseError", error_codes("CaseWorkCode", CaseErrorCode, MediaErrorCode), "working on a case")
RejectReasonEnum = graphene.Enum.from_enum(RejectReason, name="RejectReason")


def case_pk(global_id: str, field: str = "caseId") -> int:
    pk = node_pk(global_id, "Case")
    if pk is None:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field=field)
    return pk


class OnCase:
    """Arguments of a mutation on one case."""

    case_id = graphene.ID(required=True)


class OnCaseVersion(OnCase):
    """Arguments of a mutation on one case that a stale screen must not make: `version` is handed to the service."""

    version = graphene.Int(description="The version you saw: a newer one is a CONFLICT.")


class CaseWork(DomainMutation):
    """A mutation on one case whose payload is the case as it is now."""

    class Meta:
        abstract = True

    Error = CaseError
    case = graphene.Field(CaseNode)


class AcceptCase(CaseWork):
    """Staff of the handling agency: accept a routed case."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        return cls(case=services.accept(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version))


class StartCase(CaseWork):
    """Staff: start work on an accepted (or reopened) case."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = services.start_work(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        return cls(case=case)


class ResolveCase(CaseWork):
    """Staff: the work is done; the note tells the resident what was done, the optional photo shows it."""

    class Arguments(OnCaseVersion):
        note = graphene.String(required=True)
        photo = Upload(description="A JPEG, PNG or WebP photo of the result (multipart request).")

    @classmethod
    def perform(cls, info, case_id, note, photo=None, version=None):
        case = services.resolve(
            actor=info.context.actor, case_id=case_pk(case_id), note=note, photo=photo, expected_version=version
        )
        return cls(case=case)


class RejectCase(CaseWork):
    """Staff: refuse the case with a reason and a note for the resident."""

    class Arguments(OnCaseVersion):
        reason = RejectReasonEnum(required=True)
        note = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, reason, note, version=None):
        case = services.reject(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            reason=getattr(reason, "value", reason),
            note=note,
            expected_version=version,
        )
        return cls(case=case)


class ClaimCase(CaseWork):
    """Staff of the handling agency: take the case (you become its assignee)."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        return cls(case=services.claim(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version))


class AssignCase(CaseWork):
    """Staff: hand the case to a colleague of the handling agency."""

    class Arguments(OnCaseVersion):
        assignee_id = graphene.ID(required=True, description="A User id.")

    @classmethod
    def perform(cls, info, case_id, assignee_id, version=None):
        case = services.assign(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            assignee_id=node_pk(assignee_id, "User") or 0,
            expected_version=version,
        )
        return cls(case=case)


class AddCaseNote(CaseWork):
    """Staff of the region: an internal note on the timeline (never shown to residents)."""

    class Arguments(OnCaseVersion):
        text = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, text, version=None):
        case = services.add_note(
            actor=info.context.actor, case_id=case_pk(case_id), text=text, expected_version=version
        )
        return cls(case=case)


class ReplyToCase(CaseWork):
    """Staff of the handling agency: a public reply on the timeline; the reporters are notified."""

    class Arguments(OnCaseVersion):
        text = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, text, version=None):
        case = services.reply(actor=info.context.actor, case_id=case_pk(case_id), text=text, expected_version=version)
        return cls(case=case)


class CaseMutations(graphene.ObjectType):
    accept_case = AcceptCase.Field()
    start_case = StartCase.Field()
    resolve_case = ResolveCase.Field()
    reject_case = RejectCase.Field()
    claim_case = ClaimCase.Field()
    assign_case = AssignCase.Field()
    add_case_note = AddCaseNote.Field()
    reply_to_case = ReplyToCase.Field()


class RequestInformation(CaseWork):
    """Staff: ask the reporter for what is missing. The SLA clock stops until they answer."""

    class Arguments(OnCaseVersion):
        question = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, question, version=None):
        case = services.request_info(
            actor=info.context.actor, case_id=case_pk(case_id), question=question, expected_version=version
        )
        return cls(case=case)


class ProvideInformation(CaseWork):
    """The reporter answers a request for information; the clock runs again with the time it had left."""

    class Arguments(OnCaseVersion):
        answer = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, answer, version=None):
        case = services.provide_info(
            actor=info.context.actor, case_id=case_pk(case_id), answer=answer, expected_version=version
        )
        return cls(case=case)


class TransferCase(CaseWork):
    """Staff: offer the case to another agency of the region (disposisi); it accepts or declines."""

    class Arguments(OnCaseVersion):
        agency_id = graphene.ID(required=True, description="An Agency id.")
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, agency_id, reason, version=None):
        case = services.transfer(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            agency_id=node_pk(agency_id, "Agency") or 0,
            reason=reason,
            expected_version=version,
        )
        return cls(case=case)


class AcceptTransfer(CaseWork):
    """Staff of the agency a case is offered to: take it over."""

    Arguments = OnCaseVersion

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = services.accept_transfer(actor=info.context.actor, case_id=case_pk(case_id), expected_version=version)
        return cls(case=case)


class DeclineTransfer(CaseWork):
    """Staff of the agency a case is offered to: refuse it, with a reason; it goes back."""

    class Arguments(OnCaseVersion):
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, case_id, reason, version=None):
        case = services.decline_transfer(
            actor=info.context.actor, case_id=case_pk(case_id), reason=reason, expected_version=version
        )
        return cls(case=case)


class ForwardCase(CaseWork):
    """Region admins: hand the case to a body outside the region's government (PLN, PDAM…); this ends it here."""

    class Arguments(OnCaseVersion):
        body = graphene.String(required=True)
        reference = graphene.String()

    @classmethod
    def perform(cls, info, case_id, body, reference=None, version=None):
        case = services.forward(
            actor=info.context.actor,
            case_id=case_pk(case_id),
            body=body,
            reference=reference or "",
            expected_version=version,
        )
        return cls(case=case)


class DisposisiMutations(graphene.ObjectType):
    request_information = RequestInformation.Field()
    provide_information = ProvideInformation.Field()
    transfer_case = TransferCase.Field()
    accept_transfer = AcceptTransfer.Field()
    decline_transfer = DeclineTransfer.Field()
    forward_case = ForwardCase.Field()
