"""What each viewer sees of a complaint, duplicates and co-reporters, the resident's actions after resolution,
staff moderation, the public feed, and the routing preview."""

from __future__ import annotations

import pytest
from graphql_relay import from_global_id, to_global_id

from backend.accounts.models import User
from backend.cases.models import Case, CaseParticipant
from tests.helpers import resolve_case, staff_user

pytestmark = pytest.mark.django_db

VIEW = """query($r: String!, $c: String!) { caseByTrackingCode(region: $r, trackingCode: $c) {
  trackingCode reporterName viewerIsReporter complaint { description confidential } timeline { type visibility } } }"""


def view(gql, user, code):
    gql.sign_in_as(user) if user is not None else setattr(gql, "token", None)
    return gql(VIEW, {"r": "musi-banyuasin", "c": code})["caseByTrackingCode"]


@pytest.fixture
def file_road_complaint(submit, places, category, resident):
    resident.full_name = "Budi Santoso"
    resident.save()

    def run(**flags):
        result = submit(category("jalan-rusak"), *places["lais"], **flags)
        assert result["errors"] == []
        return result["case"]["trackingCode"]

    return run


def test_reporter_name_is_for_the_region_staff(gql, file_road_complaint, resident, other_resident):
    code = file_road_complaint()
    assert view(gql, resident, code)["reporterName"] == "Budi Santoso"
    assert view(gql, staff_user("pupr.staf"), code)["reporterName"] == "Budi Santoso"
    assert view(gql, staff_user("dishub.staf"), code)["reporterName"] == "Budi Santoso"
    assert view(gql, other_resident, code)["reporterName"] is None
    assert view(gql, None, code)["reporterName"] is None
    assert view(gql, staff_user("pupr.parepare"), code)["reporterName"] is None


def test_anonymous_hides_the_name_from_all_but_the_handling_agency(gql, file_road_complaint, resident, other_resident):
    code = file_road_complaint(anonymous=True)
    assert view(gql, staff_user("pupr.staf"), code)["reporterName"] == "Budi Santoso"
    assert view(gql, staff_user("pupr.kabid"), code)["reporterName"] == "Budi Santoso"
    assert view(gql, resident, code)["reporterName"] == "Budi Santoso"
    for user in (staff_user("dishub.staf"), staff_user("admin.muba"), other_resident, None):
        assert view(gql, user, code)["reporterName"] is None


def test_confidential_is_for_reporters_and_region_staff(gql, file_road_complaint, resident, other_resident):
    code = file_road_complaint(confidential=True)
    assert view(gql, resident, code)["complaint"]["confidential"] is True
    assert view(gql, staff_user("dishub.staf"), code) is not None
    assert view(gql, other_resident, code) is None
    assert view(gql, None, code) is None
    assert view(gql, staff_user("admin.parepare"), code) is None
    case_id = to_global_id("Case", Case.objects.get().pk)
    gql.sign_in_as(other_resident)
    assert gql("query($id: ID!) { node(id: $id) { id } }", {"id": case_id}) == {"node": None}


def test_residents_see_public_events_and_staff_all(gql, file_road_complaint, resident, category, places, submit):
    code = file_road_complaint()
    case = Case.objects.get(tracking_code=code)
    gql.sign_in_as(staff_user("pupr.staf"))
    gql(
        "mutation($c: ID!) { setComplaintPublished(caseId: $c, published: true) { errors { code } } }",
        {"c": to_global_id("Case", case.pk)},
    )
    resident_view = [e["type"] for e in view(gql, resident, code)["timeline"]]
    staff_view = [e["type"] for e in view(gql, staff_user("pupr.staf"), code)["timeline"]]
    assert resident_view == ["submitted", "routed"]
    assert staff_view == ["submitted", "routed", "published"]


def test_duplicates_are_suggested_and_joined(gql, submit, places, category, resident, other_resident):
    lat, lon = places["lais"]
    first = submit(category("sampah"), lat, lon)["case"]
    near = submit(category("sampah"), lat + 0.0004, lon, as_user=other_resident)  # about 45 m north
    assert [d["case"]["trackingCode"] for d in near["possibleDuplicates"]] == [first["trackingCode"]]
    assert 40 < near["possibleDuplicates"][0]["distanceM"] < 50
    far = submit(category("sampah"), lat + 0.0015, lon, as_user=other_resident)  # about 170 m
    assert far["possibleDuplicates"] == [] or first["trackingCode"] not in [
        d["case"]["trackingCode"] for d in far["possibleDuplicates"]
    ]
    other_kind = submit(category("pencemaran"), lat, lon, as_user=other_resident)
    assert other_kind["possibleDuplicates"] == []

    query = 'query($c: ID!, $lat: Float!, $lon: Float!) { nearbyComplaints(region: "16.06", category: $c, lat: $lat, lon: $lon) { case { trackingCode } } }'
    found = gql(query, {"c": str(category("sampah").pk), "lat": lat, "lon": lon})["nearbyComplaints"]
    assert first["trackingCode"] in [f["case"]["trackingCode"] for f in found]

    third = User.objects.create(phone="+6281211112222")
    gql.sign_in_as(third)
    join = "mutation($c: ID!) { joinComplaint(caseId: $c) { case { trackingCode } errors { code } } }"
    assert gql(join, {"c": first["id"]})["joinComplaint"]["errors"] == []
    assert gql(join, {"c": first["id"]})["joinComplaint"]["errors"] == [{"code": "ALREADY_DONE"}]
    mine = gql("{ myCases { edges { node { trackingCode viewerIsReporter } } } }")["myCases"]["edges"]
    assert mine == [{"node": {"trackingCode": first["trackingCode"], "viewerIsReporter": False}}]
    gql.sign_in_as(resident)
    assert gql(join, {"c": first["id"]})["joinComplaint"]["errors"] == [{"code": "ALREADY_DONE"}]


def test_staff_join_no_other_regions_complaints(gql, submit, places, category):
    """Case ids are sequential: another region's staff could join any public complaint by guessing one."""
    case = submit(category("sampah"), *places["lais"])["case"]
    join = "mutation($c: ID!) { joinComplaint(caseId: $c) { errors { code field } } }"
    gql.sign_in_as(staff_user("pupr.parepare"))
    assert gql(join, {"c": case["id"]})["joinComplaint"]["errors"] == [{"code": "FORBIDDEN", "field": "case"}]
    assert not CaseParticipant.objects.exists()


def test_confidential_complaints_are_not_suggested_or_joinable(gql, submit, places, category, other_resident):
    lat, lon = places["lais"]
    secret = submit(category("sampah"), lat, lon, confidential=True)["case"]
    near = submit(category("sampah"), lat, lon, as_user=other_resident)
    assert near["possibleDuplicates"] == []
    join = "mutation($c: ID!) { joinComplaint(caseId: $c) { errors { code } } }"
    assert gql(join, {"c": secret["id"]})["joinComplaint"]["errors"] == [{"code": "NOT_FOUND"}]


def test_staff_mark_a_duplicate_and_its_reporters_follow_the_original(
    gql, submit, places, category, resident, other_resident
):
    lat, lon = places["lais"]
    original = submit(category("sampah"), lat, lon, as_user=other_resident)["case"]
    copy = submit(category("sampah"), lat, lon)["case"]
    mutation = "mutation($c: ID!, $o: ID!, $v: Int) { markDuplicate(caseId: $c, originalId: $o, version: $v) { case { status } errors { code field } } }"
    gql.sign_in_as(resident)
    assert gql(mutation, {"c": copy["id"], "o": original["id"]})["markDuplicate"]["errors"] == [
        {"code": "FORBIDDEN", "field": None}
    ]
    gql.sign_in_as(staff_user("dlh.staf") if User.objects.filter(username="dlh.staf").exists() else staff_user("admin"))
    stale = gql(mutation, {"c": copy["id"], "o": original["id"], "v": 1})["markDuplicate"]
    assert stale["errors"] == [{"code": "CONFLICT", "field": "version"}]
    done = gql(mutation, {"c": copy["id"], "o": original["id"]})["markDuplicate"]
    assert done == {"case": {"status": "duplicate"}, "errors": []}
    original_case = Case.objects.get(pk=from_global_id(original["id"])[1])
    assert list(CaseParticipant.objects.filter(case=original_case).values_list("user_id", flat=True)) == [resident.pk]
    assert original_case.events.filter(type="co_reporters_added").exists()
    gql.sign_in_as(resident)
    assert {
        e["node"]["trackingCode"] for e in gql("{ myCases { edges { node { trackingCode } } } }")["myCases"]["edges"]
    } == {
        original["trackingCode"],
        copy["trackingCode"],
    }


def test_staff_of_another_region_cannot_act(gql, submit, places, category):
    lat, lon = places["lais"]
    a = submit(category("sampah"), lat, lon)["case"]
    b = submit(category("sampah"), lat, lon)["case"]
    gql.sign_in_as(staff_user("admin.parepare"))
    mutation = "mutation($c: ID!, $o: ID!) { markDuplicate(caseId: $c, originalId: $o) { errors { code } } }"
    assert gql(mutation, {"c": b["id"], "o": a["id"]})["markDuplicate"]["errors"] == [{"code": "FORBIDDEN"}]
    publish = "mutation($c: ID!) { setComplaintPublished(caseId: $c, published: true) { errors { code } } }"
    assert gql(publish, {"c": a["id"]})["setComplaintPublished"]["errors"] == [{"code": "FORBIDDEN"}]


CONFIRM = "mutation($c: ID!, $v: Int) { confirmResolution(caseId: $c, version: $v) { case { status closedAt } errors { code field } } }"
REOPEN = "mutation($c: ID!, $r: String!) { reopenComplaint(caseId: $c, reason: $r) { case { status } errors { code field } } }"
RATE = "mutation($c: ID!, $n: Int!, $t: String) { rateComplaint(caseId: $c, rating: $n, comment: $t) { case { complaint { rating } } errors { code field } } }"


def test_after_resolution_confirm_then_rate(gql, submit, places, category, resident, other_resident):
    case = submit(category("jalan-rusak"), *places["lais"])["case"]
    gql.sign_in_as(resident)
    assert gql(CONFIRM, {"c": case["id"]})["confirmResolution"]["errors"][0]["code"] == "INVALID_STATE"
    resolved = resolve_case(from_global_id(case["id"])[1])
    assert gql(CONFIRM, {"c": case["id"], "v": 1})["confirmResolution"]["errors"] == [
        {"code": "CONFLICT", "field": "version"}
    ]
    gql.sign_in_as(other_resident)
    assert gql(CONFIRM, {"c": case["id"]})["confirmResolution"]["errors"][0]["code"] == "FORBIDDEN"
    gql.sign_in_as(resident)
    closed = gql(CONFIRM, {"c": case["id"], "v": resolved.version})["confirmResolution"]
    assert closed["errors"] == [] and closed["case"]["status"] == "closed" and closed["case"]["closedAt"]
    assert gql(RATE, {"c": case["id"], "n": 6})["rateComplaint"]["errors"] == [{"code": "INVALID", "field": "rating"}]
    assert gql(RATE, {"c": case["id"], "n": 4, "t": "Cepat"})["rateComplaint"] == {
        "case": {"complaint": {"rating": 4}},
        "errors": [],
    }
    assert gql(RATE, {"c": case["id"], "n": 5})["rateComplaint"]["errors"] == [
        {"code": "ALREADY_DONE", "field": "rating"}
    ]


def test_reopen_once(gql, submit, places, category, resident):
    case = submit(category("jalan-rusak"), *places["lais"])["case"]
    pk = from_global_id(case["id"])[1]
    resolve_case(pk)
    gql.sign_in_as(resident)
    assert gql(REOPEN, {"c": case["id"], "r": " "})["reopenComplaint"]["errors"] == [
        {"code": "INVALID", "field": "reason"}
    ]
    assert gql(REOPEN, {"c": case["id"], "r": "Lubangnya masih ada"})["reopenComplaint"]["case"]["status"] == "reopened"
    from backend.cases.services import transition
    from tests.helpers import staff_actor

    transition(Case.objects.get(pk=pk), "resolve", actor=staff_actor("pupr.staf"))
    again = gql(REOPEN, {"c": case["id"], "r": "Masih"})["reopenComplaint"]
    assert again["errors"] == [{"code": "ALREADY_DONE", "field": "reason"}]


FEED = """query($cat: ID, $bbox: [Float!]) { publicComplaints(region: "musi-banyuasin", category: $cat, bbox: $bbox, first: 50) {
  edges { node { trackingCode reporterName complaint { description category { code } } agency { code } area { code } } } } }"""


def test_public_feed(gql, submit, places, category, other_resident, django_assert_num_queries):
    lat, lon = places["lais"]
    shown = submit(category("sampah"), lat, lon)["case"]["trackingCode"]
    submit(category("sampah"), lat, lon, confidential=True)
    road = submit(category("jalan-rusak"), lat, lon)["case"]["trackingCode"]
    gql.token = None
    feed = gql(FEED)["publicComplaints"]["edges"]
    assert {e["node"]["trackingCode"] for e in feed} == {shown, road}
    assert all(e["node"]["reporterName"] is None for e in feed)
    environment = str(category("lingkungan").pk)
    assert [e["node"]["trackingCode"] for e in gql(FEED, {"cat": environment})["publicComplaints"]["edges"]] == [shown]
    assert gql(FEED, {"bbox": [119.0, -5.0, 120.0, -3.0]})["publicComplaints"]["edges"] == []
    assert gql.post(FEED, {"bbox": [1.0, 2.0]}).json()["errors"][0]["extensions"]["code"] == "INVALID"
    for _ in range(5):
        submit(category("sampah"), lat, lon, as_user=other_resident)
    gql.token = None
    with django_assert_num_queries(5):  # region, page (complaint joined), agencies, areas, reporters
        assert len(gql(FEED)["publicComplaints"]["edges"]) == 7


def test_my_cases_queries_do_not_grow(gql, submit, places, category, resident, django_assert_num_queries):
    lat, lon = places["lais"]
    for _ in range(3):
        submit(category("sampah"), lat, lon)
    query = "{ myCases(first: 20) { edges { node { trackingCode status agency { code } area { name } complaint { category { name } } timeline { type } } } } }"
    gql.sign_in_as(resident)
    # session + user, page (complaint joined), agencies, areas, timelines (the roles are read only if an internal
    # event asks who may see it: none here)
    with django_assert_num_queries(5):
        assert len(gql(query)["myCases"]["edges"]) == 3
    for _ in range(4):
        submit(category("sampah"), lat, lon)
    with django_assert_num_queries(5):
        assert len(gql(query)["myCases"]["edges"]) == 7


def test_routing_preview_for_admins(gql, places, category):
    query = 'query($c: ID!, $lat: Float!, $lon: Float!) { routingPreview(region: "16.06", category: $c, lat: $lat, lon: $lon) { agency { code } area { code } rule { order note } } }'
    variables = {"c": str(category("drainase").pk), "lat": places["balai_agung"][0], "lon": places["balai_agung"][1]}
    gql.sign_in_as(staff_user("admin.muba"))
    preview = gql(query, variables)["routingPreview"]
    assert preview == {
        "agency": {"code": "disperkim"},
        "area": {"code": "16.06.01.1002"},
        "rule": {"order": 8, "note": "Drainase kawasan perkotaan Sekayu"},
    }
    gql.sign_in_as(staff_user("pupr.staf"))
    response = gql.post(query, variables).json()
    assert response["data"]["routingPreview"] is None and response["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_admin_for_categories_rules_and_cases(demo, submit, places, category):
    from django.test import Client

    from backend.cases.models import CaseEvent

    submit(category("sampah"), *places["lais"])
    client = Client()
    client.force_login(staff_user("admin.muba"))
    rules = client.get("/admin/complaints/routingrule/").context["cl"].result_list
    assert {r.region.code for r in rules} == {"16.06"} and len(rules) == 7
    case = Case.objects.get()
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CaseEvent.objects.filter(case=case).count() == 2
    other = Client()
    other.force_login(staff_user("admin.parepare"))
    assert other.get(f"/admin/cases/case/{case.pk}/change/").status_code in (302, 403, 404)
    rule = rules[0]
    response = client.post(
        f"/admin/complaints/routingrule/{rule.pk}/change/",
        {
            "region": rule.region_id,
            "order": 3,
            "category": rule.category_id,
            "area": "",
            "agency": rule.agency_id,
            "note": "x",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.order == 3
