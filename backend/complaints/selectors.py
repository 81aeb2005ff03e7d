"""Reads of complaints: categories, who may see what, nearby open complaints (duplicates), the public feed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backend import sql
from backend.accounts.actor import Actor, Scope
from backend.cases.models import CASE_COLUMNS, Case, CaseEvent, CaseKind, Visibility
from backend.complaints.models import Complaint, ComplaintCategory
from backend.complaints.workflow import OPEN, TERMINAL, ComplaintStatus
from backend.forms import named_answers
from backend.keyset import Key, Keyset

# The order of a resident's cases and of the public feed (newest first), and the cursors of their pages.
_NEWEST = (Key("submitted_at", descending=True, nullable=True, kind=datetime), Key("id", descending=True))
MY_CASES = Keyset("my-cases", *_NEWEST)
PUBLIC_FEED = Keyset("public-complaints", *_NEWEST)
# A case's timeline, oldest first: events are only ever appended, each with the next number of its case. Its
# cursors name the case (their scope).
TIMELINE = Keyset("timeline", Key("seq"))

H3_RESOLUTION = 10  # hexagons of ~76 m edge: a 100 m radius fits in two rings around the point's cell
DUPLICATE_RADIUS_M = 100
DUPLICATE_DAYS = 30
WORKABLE_STATUSES = OPEN  # with an agency and not finished: the workflow's own set
OPEN_STATUSES = (
    ComplaintStatus.SUBMITTED,
    ComplaintStatus.ROUTED,
    ComplaintStatus.ACCEPTED,
    ComplaintStatus.IN_PROGRESS,
    ComplaintStatus.REOPENED,
)


def h3_cell(lat: float, lon: float) -> str:
    return h3.latlng_to_cell(lat, lon, H3_RESOLUTION)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def region_categories(region) -> QuerySet[ComplaintCategory]:
    return ComplaintCategory.objects.filter(region=region, active=True).order_by("sort_order", "code")


@dataclass(frozen=True)
class Nearby:
    case: Case
    distance_m: float


def nearby_open_complaints(
    *, region, category, lat: float, lon: float, exclude_case_id: int | None = None, limit: int = 5
) -> list[Nearby]:
    """The nearest open, non-confidential complaints of the same category within ~100 m filed in the last 30 days:
    an indexed look-up on the H3 cells around the point (coordinates only), the exact distance, then the few
    nearest loaded whole. A crowded spot (a pothole everyone reports) costs one narrow query, not hundreds of rows."""
    cells = h3.grid_disk(h3_cell(lat, lon), 2)
    points = (
        Case.objects.filter(
            region=region,
            kind=CaseKind.COMPLAINT,
            h3_cell__in=cells,
            status__in=OPEN_STATUSES,
            submitted_at__gte=timezone.now() - timedelta(days=DUPLICATE_DAYS),
            complaint__category=category,
            complaint__confidential=False,
        )
        .exclude(pk=exclude_case_id)
        .values_list("pk", "lat", "lon")
    )
    distances = sorted((distance_m(lat, lon, c_lat, c_lon), pk) for pk, c_lat, c_lon in points)
    nearest = [(d, pk) for d, pk in distances if d <= DUPLICATE_RADIUS_M][:limit]
    cases = Case.objects.select_related("complaint", "agency").in_bulk([pk for _d, pk in nearest])
    return [Nearby(cases[pk], d) for d, pk in nearest]


def is_reporter(actor: Actor, case: Case) -> bool:
    """The case's resident or one of its co-reporters."""
    if actor.user is None:
        return False
    return case.resident_id == actor.user.pk or case.participants.filter(user_id=actor.user.pk).exists()


def sees_internals(actor: Actor, case: Case) -> bool:
    """Staff of the case's region (and superusers) see everything of it, internal events included."""
    return actor.works_in_region(case.region_id)


def shows_event(actor: Actor, case: Case, visibility: str) -> bool:
    """Public events for everyone who may see the case; internal ones for the region's staff."""
    return visibility == Visibility.PUBLIC or sees_internals(actor, case)


def timeline(actor: Actor, case: Case) -> QuerySet[CaseEvent]:
    """The events of a case the actor may see, in the timeline's order."""
    events = case.events.order_by(*TIMELINE.order())
    return events if sees_internals(actor, case) else events.filter(visibility=Visibility.PUBLIC)


def extra_answers(complaint) -> list[tuple[str, object]]:
    """A complaint's answers to its category's extra questions, named by their titles in the active language."""
    return named_answers(complaint.category.extra_schema, complaint.extra, (get_language() or "id")[:2])


def can_view(actor: Actor, case: Case) -> bool:
    """Confidential complaints: their reporters, the region's staff and integrations granted them only. Others:
    everyone (public fields). Permit applications are never public: the applicant's, the region's staff's and, as a
    case without the application, integrations reading the region's cases."""
    if sees_internals(actor, case) or is_reporter(actor, case):
        return True
    if actor.holds(Scope.READ_CASES, case.region_id):
        return not (case.kind == CaseKind.COMPLAINT and case.complaint.confidential) or actor.holds(
            Scope.READ_CONFIDENTIAL
        )
    return case.kind == CaseKind.COMPLAINT and not case.complaint.confidential


def shows_photos(actor: Actor, case: Case) -> bool:
    """Photos are public only once staff approved the complaint for public view; the reporter who took them and
    staff always. Co-reporters see what the public sees: joining a complaint widens nobody's view."""
    published = case.kind == CaseKind.COMPLAINT and case.complaint.published
    took_them = actor.user is not None and case.resident_id == actor.user.pk
    return published or took_them or sees_internals(actor, case)


def shows_reporter(actor: Actor, case: Case) -> bool:
    """An anonymous reporter's name is for the handling agency only (and the reporter)."""
    return reporter_visible(
        actor,
        resident_id=case.resident_id,
        anonymous=case.kind == CaseKind.COMPLAINT and case.complaint.anonymous,
        agency_id=case.agency_id,
        region_id=case.region_id,
    )


def person_label(actor: Actor, case: Case, user) -> str:
    """How `user`, someone on `case` (its reporter, an actor on its timeline, a recipient of its notifications), is
    named to `actor` outside the API (the admin, exports, logs): the reporter by shows_reporter(), like the API;
    anyone else by their account."""
    if user is None:
        return "—"
    if user.pk == case.resident_id and not shows_reporter(actor, case):
        return str(_("Anonymous reporter"))
    return str(user)


def reporter_visible(actor: Actor, *, resident_id: int, anonymous: bool, agency_id: int | None, region_id: int) -> bool:
    """shows_reporter() on a case's values (a row of the staff queue)."""
    if actor.user is not None and resident_id == actor.user.pk:
        return True
    if anonymous:
        return agency_id is not None and actor.works_at(agency_id)
    return actor.works_in_region(region_id)


def tracking_code_key(region_slug_or_code: str, tracking_code: str) -> tuple[str, str, str]:
    """How a case is named by tracking code: (the region's field, code or slug; its value; the tracking code),
    normalised as stored."""
    region = (region_slug_or_code or "").strip().lower()
    return ("code" if region[:1].isdigit() else "slug"), region, (tracking_code or "").strip().upper()


def by_tracking_code(region_field: str, region: str, tracking_code: str) -> QuerySet[Case]:
    """The case with this tracking code in the active region named (see tracking_code_key): one query, joined."""
    return Case.objects.filter(**{f"region__{region_field}": region}, region__active=True, tracking_code=tracking_code)


COMPLAINT_FLAGS = ("case_id", "anonymous", "confidential", "published")  # what the visibility rules read
_CASE_PARTS = (sql.Part(Case, CASE_COLUMNS), sql.Part(Complaint, COMPLAINT_FLAGS, partial=True))
CASE_BY_TRACKING_CODE = {
    field: sql.Statement(
        f"case-by-tracking-code-in-region-by-{field}",
        f"SELECT {sql.columns('c', CASE_COLUMNS)}, {sql.columns('p', COMPLAINT_FLAGS)}"  # noqa: S608 - our names
        " FROM cases_case c JOIN regions_region r ON r.id = c.region_id"
        " LEFT JOIN complaints_complaint p ON p.case_id = c.id"
        f" WHERE r.{field} = %s AND r.active AND c.tracking_code = %s",
        _CASE_PARTS,
    )
    for field in ("code", "slug")
}


def case_by_tracking_code(region_field: str, region: str, tracking_code: str) -> Case | None:
    """by_tracking_code() as one named statement (an app polling a status runs it over and over): the case, and of
    its complaint the flags the visibility rules read (its other fields load when read)."""
    found = CASE_BY_TRACKING_CODE[region_field].first(region, tracking_code)
    if found is None:
        return None
    case, complaint = found
    if complaint is not None:
        case.complaint = complaint
    return case


def my_cases(actor: Actor) -> QuerySet[Case]:
    """The signed-in resident's complaints: filed by them or joined as a co-reporter, newest first."""
    user_id = actor.user.pk
    return (
        Case.objects.filter(Q(resident_id=user_id) | Q(participants__user_id=user_id), kind=CaseKind.COMPLAINT)
        .distinct()
        .order_by(*MY_CASES.order())
    )


def public_feed(
    *, region, area=None, category=None, bbox: tuple[float, float, float, float] | None = None
) -> QuerySet[Case]:
    """Open, non-confidential complaints of a region for the public map and list."""
    cases = Case.objects.filter(
        region=region, kind=CaseKind.COMPLAINT, status__in=WORKABLE_STATUSES, complaint__confidential=False
    )
    if area is not None:
        cases = cases.filter(Q(area=area) | Q(area__parent=area))
    if category is not None:
        cases = cases.filter(Q(complaint__category=category) | Q(complaint__category__parent=category))
    if bbox is not None:
        west, south, east, north = bbox
        cases = cases.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
    return cases.order_by(*PUBLIC_FEED.order())


# --- Open311 (GeoReport v2) ---------------------------------------------------------------------------------------

#: Open311's two states: a complaint the agency resolved (awaiting confirmation) or that ended is closed.
CLOSED_STATUSES = frozenset({ComplaintStatus.RESOLVED, *TERMINAL})


def _readable(actor: Actor, region) -> QuerySet[Case]:
    """A region's complaints as `actor` may list them: confidential ones only for an integration granted them (and
    the region's staff)."""
    cases = Case.objects.filter(region=region, kind=CaseKind.COMPLAINT)
    if not (actor.works_in_region(region.pk) or actor.holds(Scope.READ_CONFIDENTIAL, region.pk)):
        cases = cases.filter(complaint__confidential=False)
    return cases


def service_requests(
    *,
    actor: Actor,
    region,
    tracking_codes: list[str] | None = None,
    category_codes: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    closed: bool | None = None,
    limit: int = 1000,
) -> list[Case]:
    """Complaints for Open311's `requests`: by id (tracking code), or filed in a window (default: the last 90 days),
    of some categories, open or closed; newest first, at most `limit`."""
    cases = _readable(actor, region).select_related("complaint__category", "agency")
    if tracking_codes:
        cases = cases.filter(tracking_code__in=[code.strip().upper() for code in tracking_codes])
    else:
        until = until or timezone.now()
        since = since or until - timedelta(days=90)
        cases = cases.filter(submitted_at__gte=since, submitted_at__lte=until)
    if category_codes:
        cases = cases.filter(complaint__category__code__in=category_codes)
    if closed is not None:
        cases = cases.filter(status__in=CLOSED_STATUSES) if closed else cases.exclude(status__in=CLOSED_STATUSES)
    return list(cases.order_by("-submitted_at", "-pk")[:limit])


def latest_public_notes(cases: list[Case]) -> dict[int, str]:
    """What the agency last told the public on each case (a reply, the resolution or refusal note): Open311's
    `status_notes`. One query."""
    notes: dict[int, str] = {}
    events = (
        CaseEvent.objects.filter(case__in=cases, visibility=Visibility.PUBLIC)
        .filter(Q(payload__has_key="note") | Q(payload__has_key="text"))
        .order_by("case_id", "-seq")
        .values_list("case_id", "payload")
    )
    for case_id, payload in events:
        notes.setdefault(case_id, str(payload.get("note") or payload.get("text") or ""))
    return notes


def request_updates(*, actor: Actor, region, since: datetime, until: datetime, limit: int = 1000) -> list[CaseEvent]:
    """The public events of the complaints `actor` may list, in a window, oldest first: Open311's
    `servicerequestupdates`."""
    return list(
        CaseEvent.objects.filter(
            case__in=_readable(actor, region), visibility=Visibility.PUBLIC, created_at__gte=since, created_at__lt=until
        )
        .select_related("case")
        .order_by("created_at", "pk")[:limit]
    )
