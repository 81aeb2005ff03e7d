"""The SKM survey: residents answer it, staff read the satisfaction index (IKM)."""

from __future__ import annotations

import graphene
from django.utils.translation import gettext as _

from backend.cases import survey
from backend.cases.errors import CaseErrorCode
from backend.errors import DomainError
from backend.regions import selectors as region_selectors
from schema.cases.work import CaseError, case_pk
from schema.errors import DomainMutation, query_error
from schema.fields import node_pk


class AnswerSurvey(DomainMutation):
    """The reporter of a closed case answers the SKM survey: nine elements, each 1 (poor) to 4 (very good), once."""

    class Arguments:
        case_id = graphene.ID(required=True)
        answers = graphene.List(graphene.NonNull(graphene.Int), required=True)
        comment = graphene.String()

    ok = graphene.Boolean()
    Error = CaseError

    @classmethod
    def perform(cls, info, case_id, answers, comment=""):
        survey.answer_survey(actor=info.context.actor, case_id=case_pk(case_id), answers=answers, comment=comment or "")
        return cls(ok=True, errors=[])


class ServiceIndexType(graphene.ObjectType):
    class Meta:
        name = "ServiceIndex"
        description = "The IKM (PermenPANRB 14/2017) over the survey responses asked for."

    responses = graphene.Int(required=True)
    element_means = graphene.List(graphene.Float, required=True, description="Mean (1-4) of each of the nine elements.")
    element_names = graphene.List(graphene.NonNull(graphene.String), required=True)
    ikm = graphene.Float(description="25-100; null without responses.")
    grade = graphene.String(description="A, B, C or D.")


class SurveyQueries(graphene.ObjectType):
    service_index = graphene.Field(
        ServiceIndexType,
        region=graphene.String(required=True),
        agency=graphene.ID(description="An Agency id; none: the whole region."),
        since=graphene.DateTime(),
        until=graphene.DateTime(),
        description="Staff of the region: the satisfaction index over a period.",
    )

    @staticmethod
    def resolve_service_index(root, info, region, agency=None, since=None, until=None):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None or not info.context.actor.works_in_region(found.pk):
            raise query_error(DomainError(CaseErrorCode.NOT_FOUND, _("No such region, or not yours.")))
        index = survey.service_index(
            region_id=found.pk, agency_id=(node_pk(agency, "Agency") or 0) if agency else None, since=since, until=until
        )
        return ServiceIndexType(
            responses=index.responses,
            element_means=[float(m) if m is not None else None for m in index.element_means],
            element_names=[str(name) for name in survey.ELEMENTS],
            ikm=float(index.ikm) if index.ikm is not None else None,
            grade=index.grade,
        )


class SurveyMutations(graphene.ObjectType):
    answer_survey = AnswerSurvey.Field()
