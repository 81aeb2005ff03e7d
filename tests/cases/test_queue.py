"""The staff queue: who sees which cases, the filters, SLA states in SQL, totals, and a constant number of queries
whatever the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.cases.models import Case
from backend.complaints.models import Complaint
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db

QUEUE = """query($f: QueueFilterInput, $n: Int) {
  staffQueue(filter: $f, first: $n) { edges { node {
    id trackingCode status statusLabel priority dueAt version slaState photoCount agencyCode agencyName areaName
    reporterName assigneeName latestPublicEvent { type at } categoryCode categoryName } } }
  staffQueueTotals(filter: $f) { total overdue dueSoon onTime paused unassigned } }"""


@pytest.fixture
def four_complaints(gql, resident, category, places):
    """Four complaints: two roads (DPUPR), a street light (Dishub), rubbish (DLH)."""
    gql.sign_in_as(resident)
    codes = {}
    for name, code in (
        ("road1", "jalan-rusak"),
        ("road2", "jalan-rusak"),
        ("light", "lampu-jalan"),
        ("rubbish", "sampah"),
    ):
        result = gql(SUBMIT, {"input": complaint_input(category(code), *places["lais"])})["submitComplaint"]
        codes[name] = result["case"]["trackingCode"]
    return codes


def queue(gql, user, **filters):
    gql.sign_in_as(user)
    return gql(QUEUE, {"f": filters or None, "n": 100})


def codes_of(data):
    return sorted(e["node"]["trackingCode"] for e in data["staffQueue"]["edges"])


def test_each_role_sees_its_own(gql, four_complaints, resident):
    assert codes_of(queue(gql, staff_user("pupr.staf"))) == sorted([four_complaints["road1"], four_complaints["road2"]])
    assert codes_of(queue(gql, staff_user("dishub.staf"))) == [four_complaints["light"]]
    assert codes_of(queue(gql, staff_user("admin.muba"))) == sorted(four_complaints.values())
    assert codes_of(queue(gql, staff_user("admin.parepare"))) == []
    assert codes_of(queue(gql, staff_user("pupr.parepare"))) == []
    totals = queue(gql, staff_user("admin.muba"))["staffQueueTotals"]
    assert totals["total"] == 4 and totals["unassigned"] == 4


@pytest.mark.parametrize("who", ["resident", "anonymous"])
def test_no_queue_for_those_who_are_not_staff(gql, four_complaints, resident, who):
    """A resident or an anonymous caller asking for the queue or its badges is refused, not shown an empty queue."""
    token = gql.sign_in_as(resident) if who == "resident" else ""
    for field in ("staffQueue { edges { node { trackingCode } } }", "staffQueueTotals { total }"):
        payload = gql.post("{ " + field + " }", token=token).json()
        assert payload["data"] is None
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["FORBIDDEN"]


def test_sla_states_and_filter(gql, four_complaints):
    now = timezone.now()
    Case.objects.filter(tracking_code=four_complaints["road1"]).update(due_at=now - timedelta(hours=1))
    Case.objects.filter(tracking_code=four_complaints["road2"]).update(due_at=now + timedelta(hours=3))
    data = queue(gql, staff_user("pupr.kabid"))
    states = {e["node"]["trackingCode"]: e["node"]["slaState"] for e in data["staffQueue"]["edges"]}
    assert states == {four_complaints["road1"]: "OVERDUE", four_complaints["road2"]: "DUE_SOON"}
    assert data["staffQueueTotals"] == {
        "total": 2,
        "overdue": 1,
        "dueSoon": 1,
        "onTime": 0,
        "paused": 0,
        "unassigned": 2,
    }
    assert codes_of(queue(gql, staff_user("pupr.kabid"), sla="OVERDUE")) == [four_complaints["road1"]]
    assert codes_of(queue(gql, staff_user("pupr.kabid"), sla="DUE_SOON", dueWithinHours=2)) == []
    # Sorted by the deadline: the overdue one first.
    first = queue(gql, staff_user("pupr.kabid"))["staffQueue"]["edges"][0]["node"]["trackingCode"]
    assert first == four_complaints["road1"]


def test_filters(gql, four_complaints, category):
    admin = staff_user("admin.muba")
    Case.objects.filter(tracking_code=four_complaints["road1"]).update(
        assignee=staff_user("pupr.staf"), status="accepted"
    )
    assert codes_of(queue(gql, admin, statuses=["accepted"])) == [four_complaints["road1"]]
    assert codes_of(queue(gql, admin, category=str(category("infrastruktur").pk))) == sorted(
        [four_complaints["road1"], four_complaints["road2"], four_complaints["light"]]
    )
    assert codes_of(queue(gql, admin, text=four_complaints["light"].lower())) == [four_complaints["light"]]
    assert len(codes_of(queue(gql, admin, text="berlubang"))) == 4
    assert codes_of(queue(gql, staff_user("pupr.staf"), assignee="ME")) == [four_complaints["road1"]]
    mine = queue(gql, staff_user("pupr.staf"), assignee="ME")["staffQueue"]["edges"][0]["node"]
    assert mine["assigneeName"] == "Dewi Lestari"
    assert codes_of(queue(gql, staff_user("pupr.staf"), assignee="UNASSIGNED")) == [four_complaints["road2"]]
    assert codes_of(queue(gql, admin, area="999999")) == []
    assert codes_of(queue(gql, admin, area="garbage")) == []
    newest = queue(gql, admin, order="NEWEST")["staffQueue"]["edges"][0]["node"]["trackingCode"]
    assert newest == four_complaints["rubbish"]


@pytest.mark.parametrize("page", [10, 50, 100])
def test_queries_do_not_grow_with_the_page(gql, resident, category, places, page, django_assert_num_queries, settings):
    settings.COMPLAINTS_PER_HOUR = 1000
    gql.sign_in_as(resident)
    for _ in range(100):
        gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])})
    Case.objects.filter(pk__in=list(Case.objects.values_list("pk", flat=True)[::2])).update(
        assignee=staff_user("pupr.staf")
    )
    gql.sign_in_as(staff_user("pupr.kabid"))
    # session, memberships, the page (complaint and category joined; SLA state, photo count and latest public event
    # in the query; no COUNT), agencies, areas, people (reporters and assignees; each by primary key), totals
    with django_assert_num_queries(7):
        data = gql(QUEUE, {"f": None, "n": page})
    assert len(data["staffQueue"]["edges"]) == page and data["staffQueueTotals"]["total"] == 100
    assert data["staffQueue"]["edges"][0]["node"]["latestPublicEvent"]["type"] == "routed"


def test_pages_follow_one_another(gql, four_complaints):
    gql.sign_in_as(staff_user("admin.muba"))
    page = "query($a: String) { staffQueue(first: 3, after: $a) { pageInfo { hasNextPage endCursor } edges { node { trackingCode } } } }"
    first = gql(page, {"a": None})["staffQueue"]
    assert len(first["edges"]) == 3 and first["pageInfo"]["hasNextPage"] is True
    second = gql(page, {"a": first["pageInfo"]["endCursor"]})["staffQueue"]
    assert len(second["edges"]) == 1 and second["pageInfo"]["hasNextPage"] is False
    seen = [e["node"]["trackingCode"] for e in first["edges"] + second["edges"]]
    assert sorted(seen) == sorted(four_complaints.values())


def row_of(data, code):
    return next(e["node"] for e in data["staffQueue"]["edges"] if e["node"]["trackingCode"] == code)


def test_rows_carry_what_a_queue_screen_shows(gql, four_complaints, resident):
    resident.full_name = "Budi Santoso"
    resident.save()
    road = Case.objects.get(tracking_code=four_complaints["road1"])
    Case.objects.filter(pk=road.pk).update(assignee=staff_user("pupr.staf"))
    row = row_of(queue(gql, staff_user("pupr.kabid")), four_complaints["road1"])
    assert gql("query($id: ID!) { node(id: $id) { ... on Case { trackingCode } } }", {"id": row["id"]}) == {
        "node": {"trackingCode": four_complaints["road1"]}
    }
    assert row["status"] == "routed" and row["statusLabel"] == "sudah diteruskan ke OPD"
    assert row["priority"] == "NORMAL" and row["version"] == road.version
    assert row["dueAt"] == road.due_at.isoformat()
    assert (row["agencyCode"], row["agencyName"], row["areaName"]) == ("dpupr", "DPUPR", road.area.name)
    assert (row["categoryCode"], row["categoryName"]) == ("jalan-rusak", "Jalan rusak")
    assert row["assigneeName"] == "Dewi Lestari" and row["reporterName"] == "Budi Santoso"
    assert row["photoCount"] == 0 and row["latestPublicEvent"]["type"] == "routed"
    english = row_of(gql.post(QUEUE, {"n": 100}, HTTP_ACCEPT_LANGUAGE="en").json()["data"], four_complaints["road1"])
    assert (english["categoryName"], english["statusLabel"]) == ("Damaged road", "routed to an agency")


def test_anonymous_reporters_are_named_to_the_handling_agency_only(gql, four_complaints):
    Complaint.objects.filter(case__tracking_code=four_complaints["road1"]).update(anonymous=True)
    as_admin = queue(gql, staff_user("admin.muba"))  # staff of the region, not of the handling agency
    assert row_of(as_admin, four_complaints["road1"])["reporterName"] is None
    assert (
        row_of(as_admin, four_complaints["rubbish"])["reporterName"] is not None
    )  # not anonymous: staff of the region
    assert row_of(queue(gql, staff_user("pupr.staf")), four_complaints["road1"])["reporterName"] is not None
