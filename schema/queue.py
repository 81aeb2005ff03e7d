"""The staff queue in the API: `staffQueue` (a page of rows) and `staffQueueTotals` (badges), same filter."""

from __future__ import annotations

from collections import namedtuple

import graphene
from django.conf import settings
from graphene import relay
from graphql_relay import to_global_id

from backend.cases.workflow import STATUS_LABELS
from backend.errors import DomainError
from backend.work import queue
from schema.cases.types import CaseKindEnum, PriorityEnum
from schema.errors import query_error
from schema.fields import keyset_page, node_pk, parse_pk

SlaStateEnum = graphene.Enum.from_enum(queue.SlaState, name="SlaState")
AssigneeFilterEnum = graphene.Enum.from_enum(queue.AssigneeFilter, name="AssigneeFilter")
QueueOrderEnum = graphene.Enum.from_enum(queue.QueueOrder, name="QueueOrder")


class QueueFilterInput(graphene.InputObjectType):
    statuses = graphene.List(graphene.NonNull(graphene.String), description="Any of these statuses.")
    kind = CaseKindEnum()
    category = graphene.ID(description="A complaint category or group id.")
    permit_type = graphene.String(description="A permit type's code, e.g. `pbg`.")
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


class LatestEvent(graphene.ObjectType):
    """An event of a case's timeline, in short."""

    type = graphene.String(required=True)
    at = graphene.DateTime(required=True)


class QueueRowType(graphene.ObjectType):
    """A case as a line of the staff queue: what a queue screen shows, as plain values read in one query. Open the
    case itself with `node(id:)` for everything else."""

    class Meta:
        name = "QueueRow"

    id = graphene.ID(required=True, description="The case's global id (a Case node).")
    tracking_code = graphene.String(required=True)
    kind = graphene.Field(CaseKindEnum, required=True)
    status = graphene.String(required=True)
    status_label = graphene.String(required=True, description="The status in words, in the request's language.")
    priority = graphene.Field(PriorityEnum, required=True)
    submitted_at = graphene.DateTime()
    due_at = graphene.DateTime()
    version = graphene.Int(required=True, description="For the actions' `version` argument.")
    sla_state = graphene.Field(SlaStateEnum, required=True)
    photo_count = graphene.Int(required=True)
    latest_public_event = graphene.Field(LatestEvent, description="What the resident last saw happen.")
    category_code = graphene.String()
    category_name = graphene.String(description="In the request's language.")
    area_code = graphene.String()
    area_name = graphene.String()
    agency_code = graphene.String(description="The handling agency.")
    agency_name = graphene.String(description="Its short name.")
    assignee_name = graphene.String()
    reporter_name = graphene.String(description="Null for anonymous reports, except for the handling agency.")

    @staticmethod
    def resolve_id(row, info):
        return to_global_id("Case", row.id)

    @staticmethod
    def resolve_status_label(row, info):
        return str(STATUS_LABELS.get(row.status, row.status))

    @staticmethod
    def resolve_latest_public_event(row, info):
        return Event(row.latest_public_type, row.latest_public_at) if row.latest_public_type else None


Event = namedtuple("Event", "type at")  # a LatestEvent's values (no graphene object per row)


class QueueRowConnection(relay.Connection):
    class Meta:
        node = QueueRowType


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
        return parse_pk(value) or -1
    found = node_pk(value, "ComplaintCategory")
    found = found if found is not None else node_pk(value, "Area")
    return found if found is not None else -1


def to_filter(data) -> queue.QueueFilter:
    data = data or {}
    return queue.QueueFilter(
        statuses=tuple(data.get("statuses") or ()),
        kind=_value(data.get("kind")),
        category_id=_pk(data.get("category")),
        permit_type=(data.get("permit_type") or "").strip().lower(),
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
    staff_queue = graphene.Field(
        QueueRowConnection,
        required=True,
        filter=QueueFilterInput(),
        first=graphene.Int(description="Page size, at most 100 (the default)."),
        after=graphene.String(description="The `endCursor` of the page before: the rows after that row."),
        last=graphene.Int(description="The last rows (before `before`), at most 100."),
        before=graphene.String(description="The `startCursor` of the page after: the rows before that row."),
        description="Staff: your agency's cases (region admins: the region's), filtered and sorted. Cursors name a "
        "row, so cases that arrive or leave between two pages make no row repeat or go missing.",
    )
    staff_queue_totals = graphene.Field(QueueTotals, required=True, filter=QueueFilterInput())

    @staticmethod
    def resolve_staff_queue(root, info, filter=None, **page):
        actor, filters = info.context.actor, to_filter(filter)
        limit = settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]
        keyset = queue.ORDERS[filters.order]

        def read(after, before, size, backwards):
            request = queue.PageRequest(size, after=after, before=before, backwards=backwards)
            return queue.queue_page(actor=actor, filters=filters, page=request)

        try:
            return keyset_page(QueueRowConnection, keyset, read, page, limit)
        except DomainError as exc:
            raise query_error(exc) from None

    @staticmethod
    def resolve_staff_queue_totals(root, info, filter=None):
        try:
            return QueueTotals(**queue.queue_totals(actor=info.context.actor, filters=to_filter(filter)))
        except DomainError as exc:
            raise query_error(exc) from None
