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
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, CaseEvent, Priority, Visibility
from backend.cases.workflow import clock_stopped
from backend.complaints import selectors as complaint_selectors
from backend.complaints.models import localized_name
from backend.errors import DomainError
from backend.keyset import Key, Keyset
from backend.regions.models import Agency, Area
from media.models import Attachment, AttachmentKind


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
    permit_type: str = ""  # a permit type's code
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


PRIORITY_RANKS = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}  # anything else: 3
PRIORITY_RANK = When_(
    *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANKS.items()),
    default=Value(3),
    output_field=IntegerField(),
)

# The queue's orders as keysets: each sorts, and cuts pages at a row, the same way on every database.
ORDERS = {
    QueueOrder.DUE_SOONEST: Keyset("queue-due", Key("due_at", nullable=True, kind=datetime), Key("id")),
    QueueOrder.NEWEST: Keyset(
        "queue-newest", Key("submitted_at", descending=True, nullable=True, kind=datetime), Key("id", descending=True)
    ),
    QueueOrder.PRIORITY: Keyset(
        "queue-priority", Key("priority_rank"), Key("due_at", nullable=True, kind=datetime), Key("id")
    ),
}


def sla_state(now: datetime, soon: datetime):
    """SQL for the SLA state of a case at `now`, due soon before `soon` (the same on PostgreSQL and SQLite)."""
    return When_(
        When(status__in=clock_stopped(), then=Value(SlaState.DONE.value)),
        When(sla_paused_at__isnull=False, then=Value(SlaState.PAUSED.value)),
        When(due_at__lt=now, then=Value(SlaState.OVERDUE.value)),
        When(due_at__lt=soon, then=Value(SlaState.DUE_SOON.value)),
        default=Value(SlaState.ON_TIME.value),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class Scope:
    """The one condition that picks the cases a staff member's queue draws from: `field` in `ids` (None: every
    case, for superusers)."""

    field: str | None
    ids: tuple[int, ...] = ()


def scope_of(actor: Actor, *, incoming: bool = False) -> Scope:
    """Staff and supervisors: their agencies' cases (`incoming`: the cases other agencies offer them instead);
    region admins: their regions'; superusers: all. One condition each, so the (agency, due_at) and (region, due_at)
    indexes serve the queue's first page without sorting the whole queue. Anyone else has no queue: FORBIDDEN."""
    if actor.user is None or not (actor.is_superuser or actor.admin_region_ids or actor.agency_roles):
        raise DomainError(CaseErrorCode.FORBIDDEN, _("The queue is for staff. Sign in with a staff account."))
    if incoming:
        return Scope("transfer_to_id", tuple(sorted(actor.agency_roles)))
    if actor.is_superuser:
        return Scope(None)
    if actor.admin_region_ids:
        return Scope("region_id", tuple(sorted(actor.admin_region_ids)))
    return Scope("agency_id", tuple(sorted(actor.agency_roles)))


def staff_queue(*, actor: Actor, filters: QueueFilter, now: datetime | None = None) -> QuerySet[Case]:
    scope = scope_of(actor, incoming=filters.incoming)
    now = now or timezone.now()
    soon = now + timedelta(hours=filters.due_within_hours)
    return _queue(scope.field, scope.ids, filters, actor.user.pk, now, soon)


def _queue(field: str | None, ids, filters: QueueFilter, user_id: int | None, now: datetime, soon: datetime):
    photos = (
        Attachment.objects.filter(case=OuterRef("pk"), kind=AttachmentKind.PHOTO)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest_public = CaseEvent.objects.filter(case=OuterRef("pk"), visibility=Visibility.PUBLIC).order_by("-seq")
    cases = Case.objects.filter(**{f"{field}__in": ids}) if field else Case.objects.all()
    cases = cases.annotate(
        sla_state=sla_state(now, soon),
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
    if filters.permit_type:
        cases = cases.filter(permit__type_version__permit_type__code=filters.permit_type)
    if filters.area_id is not None:
        cases = cases.filter(Q(area_id=filters.area_id) | Q(area__parent_id=filters.area_id))
    if filters.assignee == AssigneeFilter.ME:
        cases = cases.filter(assignee_id=user_id)
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
    return cases.order_by(*ORDERS[filters.order].order())


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A case as a line of the staff queue: plain values. The reporter's and assignee's names are None where the
    viewer may not see them (complaint_selectors.reporter_visible; assignees: staff of the region)."""

    id: int
    kind: str
    tracking_code: str
    status: str
    priority: str
    submitted_at: datetime | None
    due_at: datetime | None
    version: int
    sla_state: str
    photo_count: int
    latest_public_type: str | None
    latest_public_at: datetime | None
    category_code: str | None
    category_name: str | None
    area_code: str | None
    area_name: str | None
    agency_code: str | None
    agency_name: str | None
    assignee_name: str | None
    reporter_name: str | None

    @property
    def priority_rank(self) -> int:
        return PRIORITY_RANKS.get(self.priority, 3)


ROW_VALUES = (
    "id",
    "kind",
    "tracking_code",
    "status",
    "priority",
    "submitted_at",
    "due_at",
    "version",
    "sla_state",
    "photo_count",
    "latest_public_type",
    "latest_public_at",
    "region_id",
    "agency_id",
    "area_id",
    "assignee_id",
    "resident_id",
    "complaint__anonymous",
    "complaint__category__code",
    "complaint__category__name_id",
    "complaint__category__name_en",
)


@dataclass(frozen=True)
class PageRequest:
    """Which rows of the queue: `size` of them after the row with key values `after` (forwards), or before `before`
    (`backwards`: the last `size` before it, or of the queue). Key values as the queue's order (ORDERS) names them."""

    size: int
    after: tuple | None = None
    before: tuple | None = None
    backwards: bool = False


def queue_page(*, actor: Actor, filters: QueueFilter, page: PageRequest, now: datetime | None = None):
    """A page of the actor's queue, one row more than asked (so the caller knows whether more follow), in the page's
    direction: the page in one query, with the complaint and category joined and nothing else (each further join
    cost PostgreSQL milliseconds of planning: bench/README.md), then the agencies, areas and people it names by
    primary key, one query each."""
    scope = scope_of(actor, incoming=filters.incoming)
    if scope.field and not scope.ids:
        return []
    now = now or timezone.now()
    mine = (actor.user.pk,) if filters.assignee == AssigneeFilter.ME else ()
    keyset = ORDERS[filters.order]

    soon = now + timedelta(hours=filters.due_within_hours)
    queue = _queue(scope.field, scope.ids, filters, mine[0] if mine else None, now, soon)
    if page.after is not None:
        queue = queue.filter(keyset.after(page.after))
    if page.before is not None:
        queue = queue.filter(keyset.before(page.before))
    order = keyset.reversed_order() if page.backwards else keyset.order()
    page_rows = list(queue.order_by(*order).values_list(*ROW_VALUES)[: page.size + 1])
    if not page_rows:
        return []
    columns = {name: i for i, name in enumerate(ROW_VALUES)}

    def ids(name):
        return {row[columns[name]] for row in page_rows} - {None}

    agencies = {pk: (code, name) for pk, code, name in _by_key(Agency, ids("agency_id"), "code", "short_name")}
    areas = {pk: (code, name) for pk, code, name in _by_key(Area, ids("area_id"), "code", "name")}
    people = {user.pk: user for user in _by_key(User, ids("assignee_id") | ids("resident_id"))}
    rows = []
    for row in page_rows:
        *own, region_id, agency_id, area_id, assignee_id, resident_id, anonymous, category, name_id, name_en = row
        shows_reporter = complaint_selectors.reporter_visible(
            actor, resident_id=resident_id, anonymous=bool(anonymous), agency_id=agency_id, region_id=region_id
        )
        assignee = people.get(assignee_id) if actor.works_in_region(region_id) else None
        rows.append(
            QueueRow(
                *own,  # the row's own values, in QueueRow's order
                category,
                localized_name(name_id, name_en) if category else None,
                *areas.get(area_id, (None, None)),
                *agencies.get(agency_id, (None, None)),
                str(assignee) if assignee else None,
                (people[resident_id].full_name or None) if shows_reporter else None,
            )
        )
    return rows


def _by_key(model, pks: set[int], *fields: str) -> list:
    """Rows of `model` by primary key: (pk, *fields) tuples, or instances with only the fields str() reads (users)."""
    if not pks:
        return []
    rows = model.objects.filter(pk__in=sorted(pks))
    return list(rows.values_list("pk", *fields) if fields else rows.only(*PERSON_FIELDS))


PERSON_FIELDS = ("id", "full_name", "username", "email", "phone")  # what User.__str__ reads


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
