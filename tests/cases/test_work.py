"""Staff work on a case through /graphql: accept, start, resolve, reject, claim, assign, notes and replies — each
allowed and refused by role, state, agency and region."""

from __future__ import annotations

import io

import pytest
from graphql_relay import to_global_id
from PIL import Image

from backend.cases.models import Audience, Case, OutboxMessage
from tests.helpers import SUBMIT, complaint_input, post_multipart, staff_user

pytestmark = pytest.mark.django_db

CASE = "case { status version statusLabel timeline { type visibility payload } }"


def act(gql, user, mutation, case_id, **arguments):
    gql.sign_in_as(user)
    names = {
        "caseId": "ID!",
        "version": "Int",
        "note": "String!",
        "text": "String!",
        "reason": "RejectReason!",
        "assigneeId": "ID!",
    }
    variables = {"caseId": case_id, **arguments}
    declared = ", ".join(f"${k}: {names[k]}" for k in variables)
    passed = ", ".join(f"{k}: ${k}" for k in variables)
    query = f"mutation({declared}) {{ {mutation}({passed}) {{ {CASE} errors {{ code field }} }} }}"
    return gql(query, variables)[mutation]


def test_the_handling_agency_works_the_case_to_resolution(gql, road_complaint_id, resident):
    kabid, staf = staff_user("pupr.kabid"), staff_user("pupr.staf")
    accepted = act(gql, staf, "acceptCase", road_complaint_id, version=2)
    assert accepted["errors"] == [] and accepted["case"]["status"] == "accepted"
    assert act(gql, staf, "startCase", road_complaint_id)["case"]["status"] == "in_progress"
    missing = act(gql, kabid, "resolveCase", road_complaint_id, note="  ")
    assert missing["errors"] == [{"code": "INVALID", "field": "note"}]
    done = act(gql, kabid, "resolveCase", road_complaint_id, note="Lubang sudah ditambal dengan aspal.")
    assert done["case"]["status"] == "resolved"
    assert done["case"]["timeline"][-1]["payload"]["note"] == "Lubang sudah ditambal dengan aspal."
    gql.sign_in_as(resident)
    confirm = "mutation($c: ID!) { confirmResolution(caseId: $c) { case { status } errors { code } } }"
    assert gql(confirm, {"c": road_complaint_id})["confirmResolution"]["case"]["status"] == "closed"


def test_resolve_with_a_photo_of_the_result(gql, road_complaint_id, resident, local_media):
    """The multipart request of the API (the console posts a form to the same service)."""
    staf = staff_user("pupr.staf")
    act(gql, staf, "acceptCase", road_complaint_id)
    act(gql, staf, "startCase", road_complaint_id)
    query = (
        'mutation($c: ID!, $p: Upload) { resolveCase(caseId: $c, note: "Ditambal", photo: $p) {'
        " case { status photos { url } } errors { code field message } } }"
    )
    refused = post_multipart(
        gql, query, {"c": road_complaint_id, "p": None}, {"variables.p": ("a.jpg", b"not an image", "image/jpeg")}
    ).json()["data"]["resolveCase"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("UNSUPPORTED_TYPE", "photo")] and refused[
        "case"
    ] is None
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(image, "JPEG")
    done = post_multipart(
        gql, query, {"c": road_complaint_id, "p": None}, {"variables.p": ("hasil.jpg", image.getvalue(), "image/jpeg")}
    ).json()["data"]["resolveCase"]
    assert done["errors"] == [] and done["case"]["status"] == "resolved"
    case = Case.objects.get()  # the one complaint
    result = case.attachments.get(requirement="result")
    assert case.events.get(type="resolved").payload["photo"] == str(result.pk)
    gql.sign_in_as(resident)  # the reporter sees the photo of the result among the case's photos
    mine = gql("query($c: ID!) { node(id: $c) { ... on Case { photos { url ofResult } } } }", {"c": road_complaint_id})
    assert len(mine["node"]["photos"]) == len(done["case"]["photos"]) >= 1
    assert [photo["ofResult"] for photo in mine["node"]["photos"]][-1] is True


def test_a_stale_version_is_refused(gql, road_complaint_id):
    assert act(gql, staff_user("pupr.staf"), "acceptCase", road_complaint_id, version=1)["errors"] == [
        {"code": "CONFLICT", "field": "version"}
    ]


@pytest.mark.parametrize(("mutation", "arguments"), [("addCaseNote", {"text": "cek"}), ("replyToCase", {"text": "Ok"})])
def test_a_note_or_reply_from_a_stale_screen_is_refused_too(gql, road_complaint_id, mutation, arguments):
    """They took a `version` and ignored it: a stale one succeeded where acceptCase answered CONFLICT."""
    staf = staff_user("pupr.staf")
    act(gql, staf, "acceptCase", road_complaint_id)  # version 3 now
    assert act(gql, staf, mutation, road_complaint_id, version=2, **arguments)["errors"] == [
        {"code": "CONFLICT", "field": "version"}
    ]
    assert act(gql, staf, mutation, road_complaint_id, version=3, **arguments)["errors"] == []


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("dishub.staf", "FORBIDDEN"),  # the same region, another agency
        ("admin.muba", "FORBIDDEN"),  # the region admin does not do an agency's work
        ("pupr.parepare", "NOT_FOUND"),  # another region: not even its existence
        ("admin.parepare", "NOT_FOUND"),
    ],
)
def test_only_the_handling_agency_accepts(gql, road_complaint_id, username, code):
    result = act(gql, staff_user(username), "acceptCase", road_complaint_id)
    assert [e["code"] for e in result["errors"]] == [code] and result["case"] is None
    assert Case.objects.get().status == "routed"


def test_residents_cannot_do_staff_work(gql, road_complaint_id, resident):
    assert act(gql, resident, "acceptCase", road_complaint_id)["errors"][0]["code"] == "NOT_FOUND"


def test_state_is_checked(gql, road_complaint_id):
    result = act(gql, staff_user("pupr.staf"), "startCase", road_complaint_id)
    assert result["errors"] == [{"code": "INVALID_STATE", "field": None}]


def test_reject_with_reason(gql, road_complaint_id, resident):
    result = act(
        gql,
        staff_user("pupr.staf"),
        "rejectCase",
        road_complaint_id,
        reason="NOT_OUR_MATTER",
        note="Jalan nasional: kewenangan BPJN.",
    )
    assert result["errors"] == [] and result["case"]["status"] == "rejected"
    assert Case.objects.get().closed_at is not None
    event = result["case"]["timeline"][-1]
    assert event["payload"]["reason"] == "not_our_matter" and event["visibility"] == "PUBLIC"
    gql.sign_in_as(resident)
    bad = gql.post(
        'mutation($c: ID!) { rejectCase(caseId: $c, reason: SPAMMY, note: "x") { errors { code } } }',
        {"c": road_complaint_id},
    )
    assert bad.status_code == 400


def test_claim_and_assign(gql, road_complaint_id):
    staf, kabid = staff_user("pupr.staf"), staff_user("pupr.kabid")
    assert act(gql, staf, "claimCase", road_complaint_id)["errors"] == []
    assert Case.objects.get().assignee == staf
    to_colleague = act(gql, staf, "assignCase", road_complaint_id, assigneeId=to_global_id("User", kabid.pk))
    assert to_colleague["errors"] == [] and Case.objects.get().assignee == kabid
    elsewhere = act(
        gql, kabid, "assignCase", road_complaint_id, assigneeId=to_global_id("User", staff_user("dishub.staf").pk)
    )
    assert elsewhere["errors"] == [{"code": "INVALID", "field": "assigneeId"}]
    assert act(gql, kabid, "assignCase", road_complaint_id, assigneeId="garbage")["errors"][0]["field"] == "assigneeId"
    # Nobody outside the agency takes it.
    assert act(gql, staff_user("dishub.staf"), "claimCase", road_complaint_id)["errors"][0]["code"] == "FORBIDDEN"


def test_notes_are_internal_and_replies_public(gql, road_complaint_id, resident):
    OutboxMessage.objects.all().delete()
    note = act(gql, staff_user("admin.muba"), "addCaseNote", road_complaint_id, text="Koordinasi dengan kecamatan.")
    assert note["errors"] == [] and note["case"]["timeline"][-1]["visibility"] == "INTERNAL"
    assert not OutboxMessage.objects.filter(audience=Audience.USER).exists()
    reply = act(gql, staff_user("pupr.staf"), "replyToCase", road_complaint_id, text="Tim akan survei besok pagi.")
    assert reply["errors"] == [] and reply["case"]["timeline"][-1]["visibility"] == "PUBLIC"
    assert OutboxMessage.objects.filter(audience=Audience.USER, audience_id=resident.pk, event_type="replied").exists()
    gql.sign_in_as(resident)
    seen = gql("{ myCases { edges { node { timeline { type } } } } }")["myCases"]["edges"][0]["node"]["timeline"]
    assert [e["type"] for e in seen] == ["submitted", "routed", "replied"]
    too_long = act(gql, staff_user("pupr.staf"), "replyToCase", road_complaint_id, text="x" * 4001)
    assert too_long["errors"] == [{"code": "INVALID", "field": "text"}]


def test_reporter_contact_for_staff(gql, resident, category, places):
    gql.sign_in_as(resident)
    plain = gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])})["submitComplaint"][
        "case"
    ]["trackingCode"]
    hidden = gql(SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"], anonymous=True)})[
        "submitComplaint"
    ]["case"]["trackingCode"]
    query = 'query($c: String!) { caseByTrackingCode(region: "16.06", trackingCode: $c) { reporterPhone } }'

    def phone(user, code):
        gql.sign_in_as(user)
        return gql(query, {"c": code})["caseByTrackingCode"]["reporterPhone"]

    assert phone(staff_user("dishub.staf"), plain) == "+6281200000001"
    assert phone(staff_user("pupr.staf"), hidden) == "+6281200000001"
    assert phone(staff_user("dishub.staf"), hidden) is None
    assert phone(staff_user("admin.parepare"), plain) is None
    assert phone(resident, plain) is None  # a resident's view has no staff contact fields
