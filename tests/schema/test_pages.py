"""Keyset pages (backend/keyset.py) on every list a client pages through: a row that arrives or leaves between two
pages makes no page repeat or skip one, forwards and backwards, whatever the order and however many rows tie on its
first key or have no value in it; a cursor that is not one of the list's own is a typed error, never "the start"."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.cases.models import Case, Priority
from backend.cases.services import add_note, transition
from backend.complaints import selectors as complaint_selectors
from backend.regions.models import Region
from backend.work.queue import ORDERS, QueueOrder
from tests.helpers import SUBMIT, complaint_input, staff_actor, staff_user

pytestmark = pytest.mark.django_db

PAGE_INFO = "pageInfo { startCursor endCursor hasNextPage hasPreviousPage }"
MY_CASES = "query($n: Int, $a: String, $l: Int, $b: String) { myCases(first: $n, after: $a, last: $l, before: $b) {"
MY_CASES += f" edges {{ cursor node {{ trackingCode }} }} {PAGE_INFO} }} }}"
QUEUE = (
    "query($f: QueueFilterInput, $n: Int, $a: String, $l: Int, $b: String) {"
    " staffQueue(filter: $f, first: $n, after: $a, last: $l, before: $b) {"
    f" edges {{ cursor node {{ trackingCode }} }} {PAGE_INFO} }} }}"
)


def connection(data):
    """The one connection in a response, however deep."""
    while "edges" not in data:
        (data,) = data.values()
    return data


def read_all(gql, query, variables=None, *, size=2, backwards=False, between=None):
    """Every row of a list, page by page, in the list's order; `between(page_number)` runs after each page."""
    variables, seen, cursor, number = dict(variables or {}), [], None, 0
    while True:
        if backwards:
            page = connection(gql(query, {**variables, "l": size, "b": cursor}))
        else:
            page = connection(gql(query, {**variables, "n": size, "a": cursor}))
        nodes = [edge["node"]["trackingCode"] for edge in page["edges"]]
        assert [edge["cursor"] for edge in page["edges"]][:1] == ([page["pageInfo"]["startCursor"]] if nodes else [])
        seen = nodes + seen if backwards else seen + nodes
        number += 1
        more = page["pageInfo"]["hasPreviousPage"] if backwards else page["pageInfo"]["hasNextPage"]
        if not more:
            return seen
        cursor = page["pageInfo"]["startCursor"] if backwards else page["pageInfo"]["endCursor"]
        if between is not None:
            between(number)


@pytest.fixture
def file(gql, resident, category, places):
    """Files a complaint through the API as the demo resident; returns its tracking code."""

    def run(code="jalan-rusak"):
        gql.sign_in_as(resident)
        result = gql(SUBMIT, {"input": complaint_input(category(code), *places["lais"])})["submitComplaint"]
        assert result["errors"] == [], result
        return result["case"]["trackingCode"]

    return run


@pytest.fixture
def five(file):
    return [file() for _ in range(5)][::-1]  # newest first


def test_a_complaint_filed_between_two_pages_of_my_cases_repeats_nothing(gql, resident, five, file):
    """The report: page 2 of myCases repeated page 1's last item when a complaint was filed in between."""
    newer = []
    assert read_all(gql, MY_CASES, between=lambda _: newer.append(file())) == five
    gql.sign_in_as(resident)
    assert read_all(gql, MY_CASES) == newer[::-1] + five  # read again from the start: the new ones come first


def test_my_cases_backwards_reaches_what_arrived_meanwhile(gql, resident, five, file):
    newer = []
    seen = read_all(gql, MY_CASES, backwards=True, between=lambda _: newer.append(file()))
    assert seen == newer[::-1] + five
    assert len(set(seen)) == len(seen)


def test_rows_that_tie_on_the_sort_key_are_cut_by_id(gql, resident, five):
    """Cases filed in the same instant (a bulk import, a clock's resolution): the id decides, nothing repeats."""
    Case.objects.filter(tracking_code__in=five).update(submitted_at=timezone.now())
    gql.sign_in_as(resident)
    for size in (1, 2, 3):
        forwards = read_all(gql, MY_CASES, size=size)
        assert sorted(forwards) == sorted(five) and len(set(forwards)) == 5
        assert read_all(gql, MY_CASES, size=size, backwards=True) == forwards


def test_the_public_feed_repeats_nothing_when_a_complaint_arrives(gql, five, file):
    query = (
        'query($n: Int, $a: String, $l: Int, $b: String) { publicComplaints(region: "musi-banyuasin", first: $n,'
        f" after: $a, last: $l, before: $b) {{ edges {{ cursor node {{ trackingCode }} }} {PAGE_INFO} }} }}"
    )
    gql.token = None
    Case.objects.filter(tracking_code__in=five).update(status="in_progress")
    newer = []

    def arrives(_):
        newer.append(file())
        Case.objects.filter(tracking_code=newer[-1]).update(status="in_progress")
        gql.token = None

    assert read_all(gql, query, between=arrives) == five


# --- the staff queue, in each of its orders ------------------------------------------------------------------------


@pytest.fixture
def queued(gql, file):
    """Seven road complaints in DPUPR's queue with deadlines that tie, deadlines that are missing and every
    priority, so each order has ties and NULLs to cut through."""
    codes = [file() for _ in range(7)]
    now = timezone.now()
    dues = [now + timedelta(days=2), now + timedelta(days=2), None, now + timedelta(days=1), None, now, now]
    priorities = [Priority.NORMAL, Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.URGENT, Priority.LOW, "x"]
    for code, due, priority in zip(codes, dues, priorities, strict=True):
        Case.objects.filter(tracking_code=code).update(due_at=due, priority=priority)
    Case.objects.filter(tracking_code__in=codes[:3]).update(submitted_at=now)  # ties in the newest order
    return codes


def expected_order(order: QueueOrder) -> list[str]:
    """The queue's order, computed here from the rows (not by the queue's SQL): keys ascending or descending with
    their NULLs last."""
    cases = list(Case.objects.filter(agency__code="dpupr", region__code="16.06"))
    rank = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}
    far = timezone.now() + timedelta(days=36500)
    if order == QueueOrder.DUE_SOONEST:
        cases.sort(key=lambda c: (c.due_at is None, c.due_at or far, c.pk))
    elif order == QueueOrder.PRIORITY:
        cases.sort(key=lambda c: (rank.get(c.priority, 3), c.due_at is None, c.due_at or far, c.pk))
    else:
        cases.sort(key=lambda c: (c.submitted_at.timestamp(), c.pk), reverse=True)
    return [c.tracking_code for c in cases]


@pytest.mark.parametrize("order", list(QueueOrder))
@pytest.mark.parametrize("size", [1, 3])
def test_the_staff_queue_pages_through_ties_and_missing_deadlines(gql, queued, order, size):
    gql.sign_in_as(staff_user("pupr.staf"))
    variables = {"f": {"order": order.name}}
    expected = expected_order(order)
    assert read_all(gql, QUEUE, variables, size=size) == expected
    assert read_all(gql, QUEUE, variables, size=size, backwards=True) == expected


@pytest.mark.parametrize("order", list(QueueOrder))
def test_a_case_arriving_between_queue_pages_repeats_nothing(gql, queued, file, order):
    gql.sign_in_as(staff_user("pupr.staf"))
    before = expected_order(order)
    arrived = []

    def arrive(_):
        code = file()
        arrived.append(code)
        Case.objects.filter(tracking_code=code).update(due_at=timezone.now() - timedelta(days=1))  # sorts first
        gql.sign_in_as(staff_user("pupr.staf"))

    seen = read_all(gql, QUEUE, {"f": {"order": order.name}}, size=2, between=arrive)
    assert len(set(seen)) == len(seen)
    assert [code for code in seen if code in before] == before  # every case that was there, in order, once


def test_a_case_leaving_the_queue_between_pages_skips_no_other(gql, queued):
    """Accepting a case of page 1 takes it out of a list of `routed` cases: with offsets the first case of
    page 2 was skipped."""
    pupr = staff_user("pupr.staf")
    gql.sign_in_as(pupr)
    variables = {"f": {"statuses": ["routed"]}}
    expected = expected_order(QueueOrder.DUE_SOONEST)
    first_page = connection(gql(QUEUE, {**variables, "n": 3}))
    assert [edge["node"]["trackingCode"] for edge in first_page["edges"]] == expected[:3]
    for edge in first_page["edges"]:
        transition(
            Case.objects.get(tracking_code=edge["node"]["trackingCode"]), "accept", actor=staff_actor("pupr.staf")
        )
    page = connection(gql(QUEUE, {**variables, "n": 100, "a": first_page["pageInfo"]["endCursor"]}))
    rest = [edge["node"]["trackingCode"] for edge in page["edges"]]
    assert rest == expected[3:]


# --- permits, regions, a case's timeline ---------------------------------------------------------------------------


def test_permit_applications_page_without_repeats(gql, resident):
    from tests.permits.conftest import Permits

    permits = Permits(gql).as_user(resident)
    made = [permits.draft()["id"] for _ in range(4)][::-1]
    query = (
        "query($n: Int, $a: String, $l: Int, $b: String) { myPermitApplications(first: $n, after: $a, last: $l,"
        f" before: $b) {{ edges {{ cursor node {{ trackingCode: id }} }} {PAGE_INFO} }} }}"
    )
    newer = []
    assert read_all(gql, query, between=lambda _: newer.append(permits.draft()["id"])) == made
    assert read_all(gql, query, size=3, backwards=True) == newer[::-1] + made


def test_regions_page_by_code(gql, demo):
    query = (
        "query($n: Int, $a: String, $l: Int, $b: String) { regions(first: $n, after: $a, last: $l, before: $b) {"
        f" edges {{ cursor node {{ trackingCode: code }} }} {PAGE_INFO} }} }}"
    )
    codes = sorted(Region.objects.filter(active=True).values_list("code", flat=True))
    added = []

    def add(_):
        added.append(
            Region.objects.create(
                code="00.01", name="Kabupaten Awal", slug="awal", kind="kabupaten", timezone="Asia/Jakarta"
            )
        )

    assert read_all(gql, query, size=1, between=add) == codes  # "00.01" sorts before the cursor: not in this read
    assert read_all(gql, query, size=1, backwards=True) == ["00.01", *codes]


def test_the_timeline_pages_oldest_first_and_resumes_from_its_last_cursor(gql, resident, file):
    code = file()
    case = Case.objects.get(tracking_code=code)
    pupr = staff_actor("pupr.staf")
    for action in ("accept", "start"):
        transition(case, action, actor=pupr)
    query = (
        "query($c: String!, $n: Int, $a: String, $l: Int, $b: String) { caseByTrackingCode(region:"
        ' "musi-banyuasin", trackingCode: $c) { events(first: $n, after: $a, last: $l, before: $b) {'
        f" edges {{ cursor node {{ trackingCode: type }} }} {PAGE_INFO} }} }} }}"
    )
    gql.sign_in_as(resident)
    whole = [
        event["type"]
        for event in gql("{ myCases { edges { node { timeline { type } } } } }")["myCases"]["edges"][0]["node"][
            "timeline"
        ]
    ]
    assert read_all(gql, query, {"c": code}, size=1) == whole
    assert read_all(gql, query, {"c": code}, size=2, backwards=True) == whole
    last = gql(query, {"c": code, "n": 100})["caseByTrackingCode"]["events"]["pageInfo"]["endCursor"]
    transition(case, "resolve", actor=pupr)
    gql.sign_in_as(resident)
    since = gql(query, {"c": code, "a": last})["caseByTrackingCode"]["events"]["edges"]
    assert [edge["node"]["trackingCode"] for edge in since] == ["resolved"]


def test_a_timeline_cursor_is_its_cases_own(gql, resident, file):
    """A cursor of one case's timeline names the case: given to another case's `events`, it is refused (it would
    otherwise be read as a position in a timeline it does not belong to)."""
    first, second = file(), file()
    query = (
        'query($c: String!, $a: String) { caseByTrackingCode(region: "musi-banyuasin", trackingCode: $c) {'
        " events(first: 1, after: $a) { edges { cursor } pageInfo { endCursor } } } }"
    )
    gql.sign_in_as(resident)
    cursor = gql(query, {"c": first})["caseByTrackingCode"]["events"]["pageInfo"]["endCursor"]
    assert gql(query, {"c": first, "a": cursor})["caseByTrackingCode"]["events"]["edges"]  # its own: the next event
    payload = gql.post(query, {"c": second, "a": cursor}).json()
    assert payload["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_internal_events_are_not_in_a_residents_timeline_pages(gql, resident, file):
    code = file()
    case = Case.objects.get(tracking_code=code)
    add_note(case_id=case.pk, actor=staff_actor("pupr.staf"), text="Cek lokasi besok pagi.")
    query = (
        'query($c: String!) { caseByTrackingCode(region: "musi-banyuasin", trackingCode: $c) {'
        " events(first: 100) { edges { node { type visibility } } } } }"
    )
    gql.sign_in_as(resident)
    events = [edge["node"] for edge in gql(query, {"c": code})["caseByTrackingCode"]["events"]["edges"]]
    assert events and all(event["visibility"] == "PUBLIC" for event in events)
    gql.sign_in_as(staff_user("pupr.staf"))
    events = [edge["node"] for edge in gql(query, {"c": code})["caseByTrackingCode"]["events"]["edges"]]
    assert "INTERNAL" in {event["visibility"] for event in events}


# --- cursors that are not this list's -------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        b64(b"arrayconnection:1"),  # the offset cursors of before
        b64(b"arrayconnection:-5"),
        b64(b'["queue-due",null,"2026-01-01T00:00:00+00:00",1]'),  # another list's
        b64(b'["public-complaints",null,"2026-01-01T00:00:00+00:00",1]'),  # same order, another list
        b64(b'["my-cases",7,"2026-01-01T00:00:00+00:00",1]'),  # a scope this list does not have
        b64(b'["my-cases",null,"2026-01-01T00:00:00+00:00",-1]'),  # an id no row has
        b64(b'["my-cases",null,"not a time",1]'),
        b64(b'["my-cases",null,"2026-01-01T00:00:00",1]'),  # a time without its zone
        b64(b'["my-cases",null,null,1.5]'),
        b64(b'["my-cases",null,null,true]'),
        b64(b'["my-cases",null,null,99999999999999999999999]'),
        b64(b'["my-cases",null,null]'),
        b64(b'{"my-cases":1}'),
        b64(b"\xff\xfe"),
    ],
)
@pytest.mark.parametrize("argument", ["after", "before"])
def test_a_cursor_that_is_not_this_lists_is_a_typed_error(gql, resident, five, cursor, argument):
    gql.sign_in_as(resident)
    response = gql.post(f"query($c: String) {{ myCases({argument}: $c) {{ edges {{ cursor }} }} }}", {"c": cursor})
    payload = response.json()
    assert payload["data"] == {"myCases": None}
    assert payload["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert "kursor" in payload["errors"][0]["message"]  # Indonesian: no Accept-Language


def test_a_cursor_of_one_queue_order_is_refused_by_another(gql, queued):
    gql.sign_in_as(staff_user("pupr.staf"))
    page = connection(gql(QUEUE, {"f": {"order": "NEWEST"}, "n": 1}))
    response = gql.post(QUEUE, {"f": {"order": "DUE_SOONEST"}, "n": 1, "a": page["pageInfo"]["endCursor"]})
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_first_and_last_together_are_refused(gql, resident, five):
    gql.sign_in_as(resident)
    payload = gql.post("{ myCases(first: 1, last: 1) { edges { cursor } } }").json()
    assert payload["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "last"}
    gql.sign_in_as(staff_user("pupr.staf"))
    payload = gql.post("{ staffQueue(first: 1, last: 1) { edges { cursor } } }").json()
    assert payload["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "last"}


def test_refusals_speak_indonesian_by_default(gql, resident, five):
    gql.sign_in_as(resident)
    response = gql.post('{ myCases(after: "x") { edges { cursor } } }', HTTP_ACCEPT_LANGUAGE="id")
    assert response.json()["errors"][0]["message"] == "`after` bukan kursor dari daftar ini."


def test_the_keysets_name_their_lists_uniquely():
    from backend.complaints.selectors import TIMELINE
    from backend.permits.selectors import NEWEST_FIRST as APPLICATIONS
    from backend.regions.selectors import BY_CODE

    names = [
        keyset.name
        for keyset in (
            complaint_selectors.MY_CASES,
            complaint_selectors.PUBLIC_FEED,
            APPLICATIONS,
            BY_CODE,
            TIMELINE,
            *ORDERS.values(),
        )
    ]
    assert len(set(names)) == len(names)
