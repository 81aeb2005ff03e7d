"""One staff action on many cases, each succeeding or failing on its own."""

from __future__ import annotations

import graphene

from backend.cases import services
from backend.errors import DomainError
from schema.cases.types import CaseNode
from schema.cases.work import CaseError, case_pk
from schema.errors import DomainMutation, as_payload_errors
from schema.fields import node_pk

BulkActionEnum = graphene.Enum(
    "BulkAction", [("ACCEPT", "accept"), ("START", "start"), ("CLAIM", "claim"), ("ASSIGN", "assign")]
)


class BulkCaseResult(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    case = graphene.Field(CaseNode, description="Null when this case was refused.")
    errors = graphene.List(graphene.NonNull(CaseError), required=True)


class BulkCaseAction(DomainMutation):
    """Staff: one action on up to 100 cases. Each case succeeds or fails on its own, with its own errors."""

    class Arguments:
        action = BulkActionEnum(required=True)
        case_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
        assignee_id = graphene.ID(description="For ASSIGN: a User id.")

    results = graphene.List(graphene.NonNull(BulkCaseResult))
    Error = CaseError

    @classmethod
    def perform(cls, info, action, case_ids, assignee_id=None):
        ids = {}
        for global_id in case_ids:
            try:
                ids[case_pk(global_id)] = global_id
            except DomainError:
                ids[-len(ids) - 1] = global_id  # unreadable: reported as not found below
        outcomes = services.bulk(
            actor=info.context.actor,
            action=getattr(action, "value", action),
            case_ids=list(ids),
            assignee_id=(node_pk(assignee_id, "User") or 0) if assignee_id else 0,
        )
        return cls(
            results=[
                BulkCaseResult(
                    case_id=ids[o.case_id],
                    case=o.case,
                    errors=as_payload_errors(o.error, CaseError.codes) if o.error else [],
                )
                for o in outcomes
            ],
            errors=[],
        )


class BulkMutations(graphene.ObjectType):
    bulk_case_action = BulkCaseAction.Field()
