"""The staff queue: the cases a staff member works from, filtered and sorted in SQL, with the SLA state of each case
derived in the query itself (so it can be filtered, counted and sorted on) and totals for the UI's badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import sql
from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, Priority
from backend.cases.workflow import clock_stopped
from backend.complaints import selectors as complaint_selectors
from backend.complaints.models import localized_name
from backend.errors import DomainError
from backend.keyset import Key, Keyset


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
    primary key, one query each. The page is an explicit statement (_page_sql): building the ORM's query for it cost
    the server more than PostgreSQL spends answering it (bench/README.md, "Staff queue")."""
    scope = scope_of(actor, incoming=filters.incoming)
    if scope.field and not scope.ids:
        return []
    now = now or timezone.now()
    soon = now + timedelta(hours=filters.due_within_hours)
    with connection.cursor() as cursor:
        cursor.execute(*_page_sql(scope, filters, actor.user.pk, now, soon, page))
        page_rows = [_read_row(row) for row in cursor.fetchall()]
    if not page_rows:
        return []
    columns = {name: i for i, name in enumerate(ROW_VALUES)}

    def ids(name):
        return {row[columns[name]] for row in page_rows} - {None}

    agencies = {pk: (code, name) for pk, code, name in _named(AGENCY_NAMES, ids("agency_id"))}
    areas = {pk: (code, name) for pk, code, name in _named(AREA_NAMES, ids("area_id"))}
    people = {user.pk: user for (user,) in _named(PEOPLE, ids("assignee_id") | ids("resident_id"))}
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


# The page's columns as SQL, in ROW_VALUES order: the case (c), its complaint (p) and category (cat), and what is
# worked out per row. tests/cases/test_queue_sql.py checks them against the models and against the ORM's queue.
_SLA_STATE = (
    "CASE WHEN c.status IN ({stopped}) THEN 'done' WHEN c.sla_paused_at IS NOT NULL THEN 'paused'"
    " WHEN c.due_at < %s THEN 'overdue' WHEN c.due_at < %s THEN 'due_soon' ELSE 'on_time' END"
)
_PRIORITY_RANK = "CASE c.priority " + " ".join(f"WHEN '{p.value}' THEN {r}" for p, r in PRIORITY_RANKS.items())
_PRIORITY_RANK += " ELSE 3 END"
_PHOTO_COUNT = "(SELECT count(*) FROM media_attachment a WHERE a.case_id = c.id AND a.kind = 'photo')"
_LATEST_PUBLIC = (
    "(SELECT e.{column} FROM cases_caseevent e WHERE e.case_id = c.id AND e.visibility = 'public'"
    " ORDER BY e.seq DESC LIMIT 1)"
)
PAGE_COLUMNS = {
    "id": "c.id",
    "kind": "c.kind",
    "tracking_code": "c.tracking_code",
    "status": "c.status",
    "priority": "c.priority",
    "submitted_at": "c.submitted_at",
    "due_at": "c.due_at",
    "version": "c.version",
    "sla_state": _SLA_STATE,
    "photo_count": _PHOTO_COUNT,
    "latest_public_type": _LATEST_PUBLIC.format(column="type"),
    "latest_public_at": _LATEST_PUBLIC.format(column="created_at"),
    "region_id": "c.region_id",
    "agency_id": "c.agency_id",
    "area_id": "c.area_id",
    "assignee_id": "c.assignee_id",
    "resident_id": "c.resident_id",
    "complaint__anonymous": "p.anonymous",
    "complaint__category__code": "cat.code",
    "complaint__category__name_id": "cat.name_id",
    "complaint__category__name_en": "cat.name_en",
}
_KEY_COLUMNS = {"due_at": "c.due_at", "submitted_at": "c.submitted_at", "id": "c.id", "priority_rank": _PRIORITY_RANK}
_DATETIMES = {ROW_VALUES.index(name) for name in ("submitted_at", "due_at", "latest_public_at")}
_BOOLEANS = {ROW_VALUES.index("complaint__anonymous")}


def _at(value: datetime):
    """A datetime as the database compares it (SQLite: text)."""
    return sql.param(Case, "due_at", value)


_FROM = (
    " FROM cases_case c LEFT JOIN complaints_complaint p ON p.case_id = c.id"
    " LEFT JOIN complaints_complaintcategory cat ON cat.id = p.category_id"
)


def _sla_state(now, soon) -> tuple[str, list]:
    """The SLA state of a case at `now`, due soon before `soon`, as SQL and its parameters."""
    stopped = sorted(clock_stopped())
    return _SLA_STATE.format(stopped=", ".join(["%s"] * len(stopped))), [*stopped, _at(now), _at(soon)]


def _conditions(scope: Scope, filters: QueueFilter, user_id: int | None, now, soon) -> tuple[str, list]:
    """What picks the queue's cases — the scope and every filter — as a WHERE clause whose values are parameters:
    the one definition the page and the totals share."""
    params, where = [], []

    def condition(text: str, *values):
        where.append(text)
        params.extend(values)

    def one_of(column: str, values) -> None:
        condition(f"{column} IN ({', '.join(['%s'] * len(values))})", *values)

    if scope.field:
        one_of(f"c.{scope.field}", scope.ids)
    if filters.statuses:
        one_of("c.status", filters.statuses)
    if filters.kind:
        condition("c.kind = %s", filters.kind)
    if filters.category_id is not None:
        condition("(p.category_id = %s OR cat.parent_id = %s)", filters.category_id, filters.category_id)
    if filters.permit_type:
        condition(
            "EXISTS (SELECT 1 FROM permits_permitapplication pa"
            " JOIN permits_permittypeversion pv ON pv.id = pa.type_version_id"
            " JOIN permits_permittype pt ON pt.id = pv.permit_type_id WHERE pa.case_id = c.id AND pt.code = %s)",
            filters.permit_type,
        )
    if filters.area_id is not None:
        condition(
            "(c.area_id = %s OR c.area_id IN (SELECT ar.id FROM regions_area ar WHERE ar.parent_id = %s))",
            filters.area_id,
            filters.area_id,
        )
    if filters.assignee == AssigneeFilter.ME:
        condition("c.assignee_id = %s", user_id)
    elif filters.assignee == AssigneeFilter.UNASSIGNED:
        condition("c.assignee_id IS NULL")
    if filters.sla is not None:
        sla_state, sla_params = _sla_state(now, soon)
        condition(f"{sla_state} = %s", *sla_params, filters.sla.value)
    for column, operator, value in (
        ("c.submitted_at", ">=", filters.created_from),
        ("c.submitted_at", "<", filters.created_to),
        ("c.due_at", ">=", filters.due_from),
        ("c.due_at", "<", filters.due_to),
    ):
        if value is not None:
            condition(f"{column} {operator} %s", _at(value))
    text = filters.text.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        condition(
            "(UPPER(c.tracking_code) = UPPER(%s) OR UPPER(p.description) LIKE UPPER(%s) ESCAPE '\\')",
            text,
            f"%{escaped}%",
        )
    return " AND ".join(where) if where else "1 = 1", params


def _page_sql(scope: Scope, filters: QueueFilter, user_id: int | None, now, soon, page: PageRequest):
    """The page's statement: the queue's conditions, the cursor's, the order and the size."""
    sla_state, params = _sla_state(now, soon)
    columns = [sla_state if name == "sla_state" else PAGE_COLUMNS[name] for name in ROW_VALUES]
    where, where_params = _conditions(scope, filters, user_id, now, soon)
    params += where_params
    keyset = ORDERS[filters.order]
    for values, forwards in ((page.after, True), (page.before, False)):
        if values is not None:
            prepared = [_at(value) if isinstance(value, datetime) else value for value in values]
            text, cursor_params = keyset.condition_sql(prepared, _KEY_COLUMNS, forwards=forwards)
            where += f" AND {text}"
            params += cursor_params
    statement = (
        f"SELECT {', '.join(columns)}{_FROM} WHERE {where}"
        f" ORDER BY {keyset.order_sql(_KEY_COLUMNS, backwards=page.backwards)} LIMIT %s"
    )
    return statement, [*params, page.size + 1]


@dataclass(frozen=True, slots=True)
class MapPoint:
    id: int
    tracking_code: str
    status: str
    lat: float
    lon: float
    sla_state: str


MAP_LIMIT = 5000


def open_complaint_points(*, actor: Actor) -> list[MapPoint]:
    """The open complaints of the actor's queue that have a location, for a map: the queue's rows (the most urgent
    MAP_LIMIT) with their coordinates."""
    filters = QueueFilter(kind="complaint", statuses=tuple(complaint_selectors.OPEN_STATUSES))
    rows = queue_page(actor=actor, filters=filters, page=PageRequest(MAP_LIMIT))[:MAP_LIMIT]
    located = Case.objects.filter(pk__in=[row.id for row in rows], lat__isnull=False, lon__isnull=False)
    places = {pk: (lat, lon) for pk, lat, lon in located.values_list("id", "lat", "lon")}
    return [
        MapPoint(row.id, row.tracking_code, row.status, *places[row.id], row.sla_state)
        for row in rows
        if row.id in places
    ]


def queue_totals(*, actor: Actor, filters: QueueFilter, now: datetime | None = None) -> dict[str, int]:
    """Counts for the badges, in one aggregate over the filtered queue: all, per SLA state, unassigned."""
    scope = scope_of(actor, incoming=filters.incoming)
    names = ("total", "overdue", "due_soon", "on_time", "paused", "unassigned")
    if scope.field and not scope.ids:
        return dict.fromkeys(names, 0)
    now = now or timezone.now()
    soon = now + timedelta(hours=filters.due_within_hours)
    sla_state, params = _sla_state(now, soon)
    where, where_params = _conditions(scope, filters, actor.user.pk, now, soon)
    counts = ", ".join(
        f"COALESCE(SUM(CASE WHEN q.sla_state = '{state.value}' THEN 1 ELSE 0 END), 0)"
        for state in (SlaState.OVERDUE, SlaState.DUE_SOON, SlaState.ON_TIME, SlaState.PAUSED)
    )
    statement = (
        f"SELECT count(*), {counts}, COALESCE(SUM(CASE WHEN q.assignee_id IS NULL THEN 1 ELSE 0 END), 0)"  # noqa: S608
        f" FROM (SELECT {sla_state} AS sla_state, c.assignee_id{_FROM} WHERE {where}) AS q"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *where_params])
        return dict(zip(names, (int(value) for value in cursor.fetchone()), strict=True))


def _read_row(row: tuple) -> tuple:
    """A row as the ORM would hand it: aware datetimes and booleans (SQLite gives naive ones and integers;
    PostgreSQL's are already so)."""
    if connection.vendor == "postgresql":
        return row
    row = list(row)
    for index in _DATETIMES:
        row[index] = sql.read_datetime(row[index])
    for index in _BOOLEANS:
        row[index] = sql.read_bool(row[index])
    return tuple(row)


# What a page names by key: agencies and areas (code, name), and people as User instances with only the fields
# str() reads.
AGENCY_NAMES = sql.Statement(
    "queue-agency-names", "SELECT id, code, short_name FROM regions_agency WHERE id IN ({keys})"
)
AREA_NAMES = sql.Statement("queue-area-names", "SELECT id, code, name FROM regions_area WHERE id IN ({keys})")
PERSON_FIELDS = ("id", "username", "email", "phone", "full_name")  # in the model's order (Model.from_db)
PEOPLE = sql.Statement(
    "queue-people",
    f"SELECT {sql.columns('u', PERSON_FIELDS)} FROM accounts_user u WHERE u.id IN ({{keys}})",  # noqa: S608
    (sql.Part(User, PERSON_FIELDS, partial=True),),
)


def _named(statement: sql.Statement, pks: set[int]) -> list:
    return statement.rows_in(sorted(pks)) if pks else []
