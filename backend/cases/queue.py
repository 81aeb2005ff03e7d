"""The staff queue: the cases a staff member works from, filtered and sorted in SQL, with the SLA state of each case
derived in the query itself (so it can be filtered, counted and sorted on) and totals for the UI's badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Case as When_
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.accounts.actor import Actor
from backend.cases.models import Case, CaseEvent, Priority, Visibility
from backend.cases.workflow import CLOCK_STOPPED
from media.models import Attachment


class SlaState(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"  # waiting on the resident: the clock does not run
    DONE = "done"  # closed, resolved, rejected…: no clock any more


class AssigneeFilter(StrEnum):
    ME = "me"
    UNASSIGNED = "unassigned"
    ANYONE = "anyone"


class QueueOrder(StrEnum):
    DUE_SOONEST = "due_soonest"
    NEWEST = "newest"
    PRIORITY = "priority"


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = ()
    kind: str | None = None
    category_id: int | None = None  # a complaint category or group
    area_id: int | None = None  # an area and the areas inside it
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    sla: SlaState | None = None
    due_within_hours: int = 24  # what "due soon" means
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    text: str = ""
    order: QueueOrder = QueueOrder.DUE_SOONEST
    incoming: bool = False  # cases other agencies offer to the actor's agency (transfers awaiting an answer)


PRIORITY_RANK = When_(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def sla_state(now: datetime, due_within_hours: int):
    """SQL for the SLA state of a case at `now` (the same on PostgreSQL and SQLite)."""
    return When_(
        When(status__in=CLOCK_STOPPED, then=Value(SlaState.DONE.value)),
        When(sla_paused_at__isnull=False, then=Value(SlaState.PAUSED.value)),
        When(due_at__lt=now, then=Value(SlaState.OVERDUE.value)),
        When(due_at__lt=now + timedelta(hours=due_within_hours), then=Value(SlaState.DUE_SOON.value)),
        default=Value(SlaState.ON_TIME.value),
        output_field=CharField(),
    )


def visible_to_staff(actor: Actor, *, incoming: bool = False) -> QuerySet[Case]:
    """Staff and supervisors: their agencies' cases (`incoming`: the cases other agencies offer them instead);
    region admins: their regions'; superusers: all; others: none. One condition each, so the (agency, due_at) and
    (region, due_at) indexes serve the queue's first page without sorting the whole queue."""
    if actor.user is None:
        return Case.objects.none()
    if incoming:
        return Case.objects.filter(transfer_to_id__in=list(actor.agency_roles))
    if actor.is_superuser:
        return Case.objects.all()
    if actor.admin_region_ids:
        return Case.objects.filter(region_id__in=actor.admin_region_ids)
    return Case.objects.filter(agency_id__in=list(actor.agency_roles))


def staff_queue(*, actor: Actor, filters: QueueFilter, now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    photos = (
        Attachment.objects.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("pk")).values("n")
    )
    latest_public = CaseEvent.objects.filter(case=OuterRef("pk"), visibility=Visibility.PUBLIC).order_by("-seq")
    cases = visible_to_staff(actor, incoming=filters.incoming).annotate(
        sla_state=sla_state(now, filters.due_within_hours),
        priority_rank=PRIORITY_RANK,
        photo_count=Coalesce(Subquery(photos, output_field=IntegerField()), 0),
        latest_public_type=Subquery(latest_public.values("type")[:1]),
        latest_public_at=Subquery(latest_public.values("created_at")[:1]),
    )
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.category_id is not None:
        cases = cases.filter(
            Q(complaint__category_id=filters.category_id) | Q(complaint__category__parent_id=filters.category_id)
        )
    if filters.area_id is not None:
        cases = cases.filter(Q(area_id=filters.area_id) | Q(area__parent_id=filters.area_id))
    if filters.assignee == AssigneeFilter.ME:
        cases = cases.filter(assignee=actor.user)
    elif filters.assignee == AssigneeFilter.UNASSIGNED:
        cases = cases.filter(assignee__isnull=True)
    if filters.sla is not None:
        cases = cases.filter(sla_state=filters.sla.value)
    for lookup, value in (
        ("submitted_at__gte", filters.created_from),
        ("submitted_at__lt", filters.created_to),
        ("due_at__gte", filters.due_from),
        ("due_at__lt", filters.due_to),
    ):
        if value is not None:
            cases = cases.filter(**{lookup: value})
    text = filters.text.strip()
    if text:
        cases = cases.filter(Q(tracking_code__iexact=text) | Q(complaint__description__icontains=text))
    order = {
        QueueOrder.DUE_SOONEST: ("due_at", "pk"),
        QueueOrder.NEWEST: ("-submitted_at", "-pk"),
        QueueOrder.PRIORITY: ("priority_rank", "due_at", "pk"),
    }[filters.order]
    return cases.order_by(*order)


def queue_totals(cases: QuerySet[Case]) -> dict[str, int]:
    """Counts for the badges, in one aggregate query over the filtered queue: all, per SLA state, unassigned."""
    cases = cases.order_by()
    return cases.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(sla_state=SlaState.OVERDUE.value)),
        due_soon=Count("pk", filter=Q(sla_state=SlaState.DUE_SOON.value)),
        on_time=Count("pk", filter=Q(sla_state=SlaState.ON_TIME.value)),
        paused=Count("pk", filter=Q(sla_state=SlaState.PAUSED.value)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
    )
