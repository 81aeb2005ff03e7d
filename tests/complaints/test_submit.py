"""Submitting a complaint through /graphql: routing, clock, timeline, outbox, idempotency and every refusal."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from graphql_relay import from_global_id

from backend.cases.models import Audience, Case, CaseEvent, OutboxMessage
from backend.cases.selectors import verify_chain
from backend.complaints.models import ComplaintCategory
from backend.regions.models import Agency, Region
from backend.regions.services import config_changed
from tests.helpers import SUBMIT, complaint_input

pytestmark = pytest.mark.django_db


def case_of(result) -> Case:
    return Case.objects.get(pk=from_global_id(result["case"]["id"])[1])


def test_submit_routes_by_group_rule_and_starts_the_clock(submit, places, category):
    result = submit(category("jalan-rusak"), *places["lais"])
    assert result["errors"] == [] and result["created"] is True
    data = result["case"]
    assert data["trackingCode"].startswith("ADU-2026-") or data["trackingCode"].startswith("ADU-20")
    assert data["status"] == "routed" and data["agency"] == {"code": "dpupr"} and data["area"] == {"code": "16.06.02"}
    assert data["complaint"]["extra"] == {"severity": "berat"}
    case = case_of(result)
    assert case.due_at is not None and case.due_at > case.submitted_at
    assert case.h3_cell and case.version == 2
    events = list(CaseEvent.objects.filter(case=case).values_list("type", flat=True))
    assert events == ["submitted", "routed"]
    routed = CaseEvent.objects.get(case=case, type="routed")
    assert routed.payload["agency"] == "dpupr" and routed.payload["rule"] is not None
    assert "DPUPR" in routed.payload["reason"]
    assert verify_chain(case) is None
    assert set(OutboxMessage.objects.filter(case=case).values_list("audience", "audience_id", "event_type")) == {
        (Audience.AGENCY, case.agency_id, "routed"),
        (Audience.USER, case.resident_id, "routed"),
        (Audience.REGION, case.region_id, "submitted"),  # the integrations hear of both events
        (Audience.REGION, case.region_id, "routed"),
    }  # routed as it was opened: nobody can be watching it yet


@pytest.mark.parametrize(
    ("code", "place", "agency"),
    [
        ("lampu-jalan", "lais", "dishub"),  # a category rule before its group's rule
        ("drainase", "balai_agung", "disperkim"),  # an area rule on the kecamatan matches its kelurahan
        ("drainase", "lais", "dpupr"),  # elsewhere the group rule applies
        ("sampah", "lais", "dlh"),
        ("banjir", "lais", "bpbd"),
    ],
)
def test_routing_rules(submit, places, category, code, place, agency):
    result = submit(category(code), *places[place])
    assert result["errors"] == [], result
    assert result["case"]["agency"] == {"code": agency}


def test_no_matching_rule_goes_to_triage(submit, places, demo):
    other = ComplaintCategory.objects.create(region=demo["muba"], code="lainnya", name_id="Lainnya", name_en="Other")
    result = submit(other, *places["lais"])
    assert result["case"]["agency"] == {"code": "diskominfo"}
    routed = CaseEvent.objects.get(case=case_of(result), type="routed")
    assert routed.payload["rule"] is None and "triage" in routed.payload["reason"]


def test_idempotency_key_returns_the_same_case(submit, places, category, other_resident):
    first = submit(category("sampah"), *places["lais"], idempotencyKey="app-7f3a")
    again = submit(category("sampah"), *places["lais"], idempotencyKey="app-7f3a")
    assert again["created"] is False and again["case"]["trackingCode"] == first["case"]["trackingCode"]
    assert Case.objects.count() == 1
    # The key is the resident's own: another resident's identical key is another case.
    theirs = submit(category("sampah"), *places["lais"], idempotencyKey="app-7f3a", as_user=other_resident)
    assert theirs["created"] is True and Case.objects.count() == 2


def test_tracking_codes_are_sequential_per_region(submit, places, category, demo):
    codes = [submit(category("sampah"), *places["lais"])["case"]["trackingCode"] for _ in range(3)]
    numbers = [int(code.rsplit("-", 1)[1]) for code in codes]
    assert numbers == [1, 2, 3]
    parepare = submit(category("sampah", "parepare"), *places["parepare"], region="parepare")
    assert parepare["errors"] == [] and parepare["case"]["trackingCode"].endswith("-000001")


def test_every_input_error_at_once_and_nothing_written(submit, places, category):
    result = submit(category("jalan-rusak"), -4.0, 119.6, description="short", extra={"severity": "parah", "x": 1})
    fields = {(e["field"], e["code"]) for e in result["errors"]}
    assert ("location", "OUTSIDE_REGION") in fields
    assert ("description", "INVALID") in fields
    # Each on the field it concerns, said for people (not jsonschema's "'x' was unexpected" on `extra`).
    extra = {e["field"]: e["message"] for e in result["errors"] if e["field"].startswith("extra")}
    assert extra == {
        "extra.severity": "Pilih salah satu: ringan, sedang, berat.",
        "extra.x": "Bukan pertanyaan formulir ini.",
    }
    assert result["case"] is None
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"lat": 104.0, "lon": -2.5}, "location", "INVALID_LOCATION"),
        ({"lat": -4.05, "lon": 119.65}, "location", "OUTSIDE_REGION"),
        ({"category": "999999"}, "category", "UNKNOWN_CATEGORY"),
        ({"category": "not-a-number"}, "category", "UNKNOWN_CATEGORY"),
        ({"description": "x" * 5001}, "description", "INVALID"),
        ({"address": "x" * 301}, "address", "INVALID"),
        ({"region": "atlantis"}, "region", "UNKNOWN_REGION"),
        ({"idempotencyKey": "k" * 65}, "idempotencyKey", "INVALID"),
        ({"extra": {}}, "extra.severity", "INVALID"),  # required for this category
        ({"extra": [1, 2]}, "extra", "INVALID"),
    ],
)
def test_refusals(submit, places, category, changes, field, code):
    result = submit(category("jalan-rusak"), *places["lais"], **changes)
    assert (field, code) in {(e["field"], e["code"]) for e in result["errors"]}, result["errors"]
    assert not Case.objects.exists()


def test_a_category_of_another_region_is_unknown(submit, places, category):
    result = submit(category("sampah", "parepare"), *places["lais"])
    assert result["errors"][0]["code"] == "UNKNOWN_CATEGORY"


def test_a_group_is_not_a_category(submit, places, category):
    result = submit(category("lingkungan"), *places["lais"])
    assert result["errors"][0]["code"] == "CATEGORY_IS_A_GROUP"


def test_anonymous_users_cannot_submit(gql, places, category):
    result = gql(SUBMIT, {"input": complaint_input(category("sampah"), *places["lais"])})["submitComplaint"]
    assert result["errors"][0]["code"] == "NOT_AUTHENTICATED"


def test_categories_query(gql, demo):
    children = "children { code name slaValue slaUnit extraSchema }"
    data = gql('{ complaintCategories(region: "musi-banyuasin") { code name ' + children + " } }")
    groups = {g["code"]: g for g in data["complaintCategories"]}
    assert list(groups) == ["infrastruktur", "lingkungan", "ketertiban", "bencana"]
    road = next(c for c in groups["infrastruktur"]["children"] if c["code"] == "jalan-rusak")
    assert road["name"] == "Jalan rusak" and road["extraSchema"]["required"] == ["severity"]
    english = gql.post('{ complaintCategories(region: "16.06") { name } }', HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["data"]["complaintCategories"][0]["name"] == "Infrastructure"


def test_filing_is_rate_limited_per_resident(submit, places, category, settings, other_resident):
    settings.COMPLAINTS_PER_HOUR = 2
    first = submit(category("sampah"), *places["lais"], idempotencyKey="a")
    for _ in range(3):  # retries are free
        assert submit(category("sampah"), *places["lais"], idempotencyKey="a")["created"] is False
    assert submit(category("sampah"), *places["lais"])["errors"] == []
    refused = submit(category("sampah"), *places["lais"])
    assert refused["errors"][0]["code"] == "RATE_LIMITED" and refused["case"] is None
    # Past the limit, a retry of a complaint that went through still gets its case back.
    again = submit(category("sampah"), *places["lais"], idempotencyKey="a")
    assert again["created"] is False and again["case"]["trackingCode"] == first["case"]["trackingCode"]
    assert submit(category("sampah"), *places["lais"], as_user=other_resident)["errors"] == []
    assert first["errors"] == []


def test_a_retry_survives_a_withdrawn_category(submit, places, category):
    first = submit(category("sampah"), *places["lais"], idempotencyKey="k-1")
    assert submit(category("sampah"), *places["lais"], idempotencyKey="k-1")["created"] is False
    withdrawn = category("sampah")
    ComplaintCategory.objects.filter(pk=withdrawn.pk).update(active=False)
    config_changed({withdrawn.region_id})
    again = submit(category("sampah"), *places["lais"], idempotencyKey="k-1")
    assert again["created"] is False and again["case"]["trackingCode"] == first["case"]["trackingCode"]
    refused = submit(category("sampah"), *places["lais"], idempotencyKey="k-2")
    assert refused["errors"][0]["code"] == "UNKNOWN_CATEGORY" and refused["case"] is None


def test_status_label_follows_the_language(gql, submit, places, category):
    code = submit(category("sampah"), *places["lais"])["case"]["trackingCode"]
    query = '{ caseByTrackingCode(region: "16.06", trackingCode: "' + code + '") { status statusLabel } }'
    assert gql.post(query, HTTP_ACCEPT_LANGUAGE="en").json()["data"]["caseByTrackingCode"] == {
        "status": "routed",
        "statusLabel": "routed to an agency",
    }
    assert (
        gql.post(query, HTTP_ACCEPT_LANGUAGE="id").json()["data"]["caseByTrackingCode"]["statusLabel"]
        == "sudah diteruskan ke OPD"
    )


def test_a_case_by_tracking_code_reads_the_columns_asked_for_in_one_query(
    gql, submit, places, category, django_assert_num_queries
):
    code = submit(category("jalan-rusak"), *places["lais"])["case"]["trackingCode"]
    gql.token = None
    query = 'query($c: String!) { caseByTrackingCode(region: "16.06", trackingCode: $c) { %s } }'
    with django_assert_num_queries(1) as captured:
        assert gql(query % "status", {"c": code})["caseByTrackingCode"] == {"status": "routed"}
    assert '"description"' not in captured.captured_queries[0]["sql"]  # the complaint's text is not read
    wide = "trackingCode status statusLabel kind priority lat lon submittedAt dueAt closedAt version viewerIsReporter"
    with django_assert_num_queries(1):  # every column asked for is in the one query: none is loaded afterwards
        data = gql(query % f"{wide} complaint {{ description category {{ code }} }}", {"c": code})
    case = Case.objects.get(tracking_code=code)
    assert data["caseByTrackingCode"]["dueAt"] == case.due_at.isoformat()
    assert data["caseByTrackingCode"]["complaint"]["category"] == {"code": "jalan-rusak"}
    assert data["caseByTrackingCode"]["version"] == 2 and data["caseByTrackingCode"]["kind"] == "COMPLAINT"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the counter's commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_counters_quick_commit_stays_with_its_statement(submit, places, category):
    """The tracking number's statement commits without waiting for the disk (open_case: it is a transaction of its
    own); the connection's next transactions wait again, and inside a caller's transaction nothing changes."""
    assert submit(category("sampah"), *places["lais"])["errors"] == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    with transaction.atomic():
        assert submit(category("sampah"), *places["lais"])["errors"] == []
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)


def test_a_region_changed_since_this_process_read_it_is_read_again(submit, places, category, demo):
    """Submissions use the region as the process cached it and check, when the number is taken, that it is still
    so: a change made without bumping any version (here straight in the table) is still seen at once."""
    region = demo["muba"]
    assert submit(category("sampah"), *places["lais"])["case"]["agency"] == {"code": "dlh"}
    other = ComplaintCategory.objects.create(region=region, code="lainnya", name_id="Lainnya", name_en="Other")
    config_changed({region.pk})
    Region.objects.filter(pk=region.pk).update(triage_agency=Agency.objects.get(region=region, code="dpupr"))
    assert submit(other, *places["lais"])["case"]["agency"] == {"code": "dpupr"}
    Region.objects.filter(pk=region.pk).update(active=False)
    refused = submit(category("sampah"), *places["lais"])
    assert refused["errors"][0]["code"] == "UNKNOWN_REGION" and refused["case"] is None


def test_times_come_in_one_convention(gql, submit, category, places):
    """UTC (+00:00) everywhere: a mutation's answer once said +07:00 for what a query said in +00:00."""
    filed = submit(category("jalan-rusak"), *places["lais"])
    query = "query($id: ID!) { node(id: $id) { ... on Case { dueAt submittedAt } } }"
    read = gql(query, {"id": filed["case"]["id"]})["node"]
    assert filed["case"]["dueAt"] == read["dueAt"]
    assert read["dueAt"].endswith("+00:00") and read["submittedAt"].endswith("+00:00")
