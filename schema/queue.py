"""The staff queue in the API: `staffQueue` (a page of cases) and `staffQueueTotals` (badges), same filter."""

from __future__ import annotations

import graphene

from backend.cases import queue
from schema.cases import CaseKindEnum, CaseNode, case_queryset
from schema.fields import ConnectionField, node_pk

SlaStateEnum = graphene.Enum.from_enum(queue.SlaState, name="SlaState")
AssigneeFilterEnum = graphene.Enum.from_enum(queue.AssigneeFilter, name="AssigneeFilter")
QueueOrderEnum = graphene.Enum.from_enum(queue.QueueOrder, name="QueueOrder")


class QueueFilterInput(graphene.InputObjectType):
    statuses = graphene.List(graphene.NonNull(graphene.String), description="Any of these statuses.")
    kind = CaseKindEnum()
    category = graphene.ID(description="A complaint category or group id.")
    area = graphene.ID(description="An Area id: the area and the areas inside it.")
    assignee = AssigneeFilterEnum(default_value=queue.AssigneeFilter.ANYONE.value)
    sla = SlaStateEnum()
    due_within_hours = graphene.Int(default_value=24, description="What due soon means, in hours.")
    created_from = graphene.DateTime()
    created_to = graphene.DateTime()
    due_from = graphene.DateTime()
    due_to = graphene.DateTime()
    text = graphene.String(description="A tracking code, or words of the description.")
    order = QueueOrderEnum(default_value=queue.QueueOrder.DUE_SOONEST.value)
    incoming = graphene.Boolean(default_value=False, description="Transfers other agencies offer yours, to answer.")


class QueueTotals(graphene.ObjectType):
    total = graphene.Int(required=True)
    overdue = graphene.Int(required=True)
    due_soon = graphene.Int(required=True)
    on_time = graphene.Int(required=True)
    paused = graphene.Int(required=True)
    unassigned = graphene.Int(required=True)


def _value(enum_value, default=None):
    return getattr(enum_value, "value", enum_value) if enum_value is not None else default


def _pk(value) -> int | None:
    """A plain id or a global id (an unreadable one matches nothing)."""
    if value is None:
        return None
    if str(value).isdigit():
        return int(value)
    found = node_pk(value, "ComplaintCategory")
    found = found if found is not None else node_pk(value, "Area")
    return found if found is not None else -1


def to_filter(data) -> queue.QueueFilter:
    data = data or {}
    return queue.QueueFilter(
        statuses=tuple(data.get("statuses") or ()),
        kind=_value(data.get("kind")),
        category_id=_pk(data.get("category")),
        area_id=_pk(data.get("area")),
        assignee=queue.AssigneeFilter(_value(data.get("assignee"), queue.AssigneeFilter.ANYONE.value)),
        sla=queue.SlaState(_value(data.get("sla"))) if data.get("sla") is not None else None,
        due_within_hours=max(1, min(int(data.get("due_within_hours") or 24), 24 * 30)),
        created_from=data.get("created_from"),
        created_to=data.get("created_to"),
        due_from=data.get("due_from"),
        due_to=data.get("due_to"),
        text=data.get("text") or "",
        order=queue.QueueOrder(_value(data.get("order"), queue.QueueOrder.DUE_SOONEST.value)),
        incoming=bool(data.get("incoming")),
    )


class QueueQueries(graphene.ObjectType):
    staff_queue = ConnectionField(
        CaseNode,
        filter=QueueFilterInput(),
        description="Staff: your agency's cases (region admins: the region's), filtered and sorted; slaState set.",
    )
    staff_queue_totals = graphene.Field(QueueTotals, required=True, filter=QueueFilterInput())

    @staticmethod
    def resolve_staff_queue(root, info, filter=None, **kwargs):
        cases = queue.staff_queue(actor=info.context.actor, filters=to_filter(filter))
        return case_queryset(cases, info, "edges", "node")

    @staticmethod
    def resolve_staff_queue_totals(root, info, filter=None):
        cases = queue.staff_queue(actor=info.context.actor, filters=to_filter(filter))
        return QueueTotals(**queue.queue_totals(cases))
