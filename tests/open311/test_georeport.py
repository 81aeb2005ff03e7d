"""Open311 GeoReport v2: the spec's requests and answers in JSON and XML, every refusal in the spec's error format,
and the app's rules (validation, routing, confidentiality, no reporter) holding here too."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from backend.accounts.actor import Scope
from backend.cases.models import Case
from backend.cases.services import transition
from backend.integrations import services as integrations
from backend.integrations.models import Integration
from tests.helpers import staff_actor

pytestmark = pytest.mark.django_db

MUBA = "16.06"
BASE = "/open311/v2"


def read_xml(content: bytes):
    return ET.fromstring(content)  # noqa: S314 - our own server's answer


@pytest.fixture
def client():
    """A client asking for English (the default is Bahasa Indonesia: test_the_language_follows_the_request)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def key_for(demo, *scopes, region="muba"):
    admin = "admin.muba" if region == "muba" else "admin.parepare"
    integration = integrations.create_integration(
        actor=staff_actor(admin),
        region_id=demo[region].pk,
        name=f"Bridge {region} {len(scopes)}",
        contact_email="it@example.org",
        scopes=list(scopes),
    )
    return integrations.issue_key(actor=staff_actor(admin), integration_id=integration.pk).secret


@pytest.fixture
def submit_key(demo):
    return key_for(demo, Scope.SUBMIT, Scope.READ_CASES)


def get(client, path, fmt="json", **params):
    response = client.get(f"{BASE}/{path}.{fmt}", params)
    body = json.loads(response.content) if fmt == "json" else read_xml(response.content)
    return response, body


def post(client, fmt="json", **fields):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"{BASE}/requests.{fmt}", fields)
    body = json.loads(response.content) if fmt == "json" else read_xml(response.content)
    return response, body


def spec_request(places, key, **changes):
    """The spec's example POST, with Musi Banyuasin's values."""
    lat, lon = places["lais"]
    fields = {
        "api_key": key,
        "jurisdiction_id": MUBA,
        "service_code": "jalan-rusak",
        "lat": str(lat),
        "long": str(lon),
        "address_string": "Jl. Merdeka depan pasar",
        "email": "warga@example.org",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "Budi",
        "last_name": "Santoso",
        "phone": "081200000009",
        "description": "Jalan berlubang besar di depan pasar, membahayakan motor.",
        "media_url": "https://pics.example.org/lubang.jpg",
        "attribute[severity]": "berat",
        "attribute[lane_blocked]": "true",
    }
    fields.update(changes)
    return fields


def test_discovery(client, demo):
    response, body = get(client, "discovery")
    assert (
        response.status_code == 200 and body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    )
    response, xml = get(client, "discovery", "xml")
    assert xml.tag == "discovery" and xml.find("endpoints/endpoint/formats/format").text == "application/json"


def test_services_are_the_regions_categories(client, demo):
    response, services = get(client, "services", jurisdiction_id=MUBA)
    codes = {s["service_code"]: s for s in services}
    assert response.status_code == 200 and "jalan-rusak" in codes and "lampu-jalan" in codes
    assert codes["jalan-rusak"]["metadata"] is True and codes["jalan-rusak"]["type"] == "realtime"
    response, xml = get(client, "services", "xml", jurisdiction_id=MUBA)
    assert xml.tag == "services" and {s.findtext("service_code") for s in xml.findall("service")} == set(codes)
    assert xml.find("service/metadata").text in ("true", "false")


def test_a_service_definition_comes_from_the_categorys_schema(client, demo):
    _response, definition = get(client, "services/jalan-rusak", jurisdiction_id=MUBA)
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert attributes["severity"]["datatype"] == "singlevaluelist" and attributes["severity"]["required"] is True
    assert [v["key"] for v in attributes["severity"]["values"]] == ["ringan", "sedang", "berat"]
    assert attributes["lane_blocked"]["required"] is False
    _response, xml = get(client, "services/jalan-rusak", "xml", jurisdiction_id=MUBA)
    assert xml.tag == "service_definition" and xml.findtext("attributes/attribute/code") == "severity"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("services", {}, 400),  # jurisdiction_id is required: one deployment serves many regions
        ("services", {"jurisdiction_id": "99.99"}, 404),
        ("services/no-such-thing", {"jurisdiction_id": MUBA}, 404),
        ("requests/ADU-2026-999999", {"jurisdiction_id": MUBA}, 404),
        ("requests", {"jurisdiction_id": MUBA, "start_date": "kemarin"}, 400),
        ("requests", {"jurisdiction_id": MUBA, "status": "half-open"}, 400),
        ("requests", {"jurisdiction_id": MUBA, "api_key": "simpul_nope_nope"}, 403),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refusals_in_the_specs_error_format(client, demo, path, params, status, fmt):
    response, body = get(client, path, fmt, **params)
    assert response.status_code == status
    if fmt == "json":
        assert body[0]["code"] == status and body[0]["description"]
    else:
        assert (
            body.tag == "errors" and body.findtext("error/code") == str(status) and body.findtext("error/description")
        )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_specs_post_round_trips(client, demo, places, submit_key, fmt):
    response, body = post(client, fmt, **spec_request(places, submit_key))
    assert response.status_code == 201
    request_id = body[0]["service_request_id"] if fmt == "json" else body.findtext("request/service_request_id")
    case = Case.objects.get(tracking_code=request_id)
    assert case.agency.code == "dpupr" and case.complaint.extra == {"severity": "berat", "lane_blocked": True}
    assert case.complaint.media_url == "https://pics.example.org/lubang.jpg"
    assert case.resident.username.startswith("integration-")  # never a resident named by the request
    response, found = get(client, f"requests/{request_id}", fmt, jurisdiction_id=MUBA)
    item = found[0] if fmt == "json" else {child.tag: child.text for child in found.find("request")}
    assert (
        item["service_request_id"] == request_id and item["status"] == "open" and item["service_code"] == "jalan-rusak"
    )
    assert item["agency_responsible"] and item["media_url"] == "https://pics.example.org/lubang.jpg"
    assert "Budi" not in response.content.decode() and "081200000009" not in response.content.decode()
    response, _tokens = get(client, f"tokens/{request_id}", fmt, jurisdiction_id=MUBA)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "simpul_aaaa_bbbb"}, 403, "api_key"),
        ({"lat": ""}, 400, "lat and long"),
        ({"service_code": "tidak-ada"}, 404, "service_code"),
        ({"attribute[severity]": "parah"}, 400, "attribute[severity]"),
        ({"description": "rusak"}, 400, "description"),
        ({"lat": "0", "long": "0"}, 400, "lat/long"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"attribute[lane_blocked]": "maybe"}, 400, "attribute[lane_blocked] is true or false"),
        ({"description": "ada\x00nul di sini, sepuluh huruf"}, 400, "NUL"),
    ],
)
def test_bad_submissions_are_refused_and_nothing_is_filed(client, demo, places, submit_key, changes, status, words):
    response, body = post(client, **spec_request(places, submit_key, **changes))
    assert response.status_code == status and words in " ".join(e["description"] for e in body)
    assert not Case.objects.exists()


def test_a_key_without_the_submit_scope_or_of_another_region_is_refused(client, demo, places):
    for key in (key_for(demo, Scope.READ_CASES), key_for(demo, Scope.SUBMIT, region="parepare")):
        response, body = post(client, **spec_request(places, key))
        assert response.status_code == 403 and body[0]["code"] == 403
    assert not Case.objects.exists()


def test_the_integrations_allowance_is_its_own(client, demo, places, submit_key, settings):
    settings.OPEN311_SUBMISSIONS_PER_HOUR = 1
    assert post(client, **spec_request(places, submit_key))[0].status_code == 201
    response, body = post(client, **spec_request(places, submit_key))
    assert response.status_code == 429 and response["Retry-After"] and body[0]["code"] == 429


def test_another_regions_request_is_not_found(client, demo, places, submit, category):
    other = submit(category("jalan-rusak", "parepare"), *places["parepare"], region="parepare")["case"]
    response, _body = get(client, f"requests/{other['trackingCode']}", jurisdiction_id=MUBA)
    assert response.status_code == 404


def test_confidential_requests_need_a_key_granted_them(client, demo, places, submit, category):
    hidden = submit(category("jalan-rusak"), *places["lais"], confidential=True)["case"]["trackingCode"]
    shown = submit(category("jalan-rusak"), *places["lais"])["case"]["trackingCode"]
    _response, listed = get(client, "requests", jurisdiction_id=MUBA)
    assert [r["service_request_id"] for r in listed] == [shown]
    assert get(client, f"requests/{hidden}", jurisdiction_id=MUBA)[0].status_code == 404
    key = key_for(demo, Scope.READ_CASES, Scope.READ_CONFIDENTIAL)
    _response, listed = get(client, "requests", jurisdiction_id=MUBA, api_key=key)
    assert {r["service_request_id"] for r in listed} == {shown, hidden}


def test_status_and_notes_follow_the_work(client, demo, road_complaint):
    staff = staff_actor("pupr.staf")
    for action, payload in (("accept", {}), ("start", {}), ("resolve", {"note": "Sudah ditambal, terima kasih."})):
        transition(Case.objects.get(pk=road_complaint.pk), action, actor=staff, payload=payload)
    _response, closed = get(client, "requests", jurisdiction_id=MUBA, status="closed")
    assert [(r["service_request_id"], r["status_notes"]) for r in closed] == [
        (road_complaint.tracking_code, "Sudah ditambal, terima kasih.")
    ]
    assert get(client, "requests", jurisdiction_id=MUBA, status="open")[1] == []
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    _response, updates = get(client, "servicerequestupdates", jurisdiction_id=MUBA, start_date=since)
    assert [u["status"] for u in updates][-1] == "closed" and updates[-1][
        "description"
    ] == "Sudah ditambal, terima kasih."


def test_the_default_window_is_ninety_days(client, demo, road_complaint):
    Case.objects.filter(pk=road_complaint.pk).update(submitted_at=timezone.now() - timedelta(days=91))
    assert get(client, "requests", jurisdiction_id=MUBA)[1] == []
    old = (timezone.now() - timedelta(days=100)).isoformat()
    assert len(get(client, "requests", jurisdiction_id=MUBA, start_date=old)[1]) == 1


def test_the_language_follows_the_request(demo):
    response = Client().get(f"{BASE}/services.json")
    assert json.loads(response.content)[0]["description"].startswith("jurisdiction_id wajib diisi")
    _response, services = get(Client(HTTP_ACCEPT_LANGUAGE="en"), "services", jurisdiction_id=MUBA)
    assert "Damaged road" in {s["service_name"] for s in services}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{BASE}/services.json?jurisdiction_id=16.06%00", 400),
        (f"{BASE}/requests.json?jurisdiction_id=16.06&service_code=sampah%00", 400),
        (f"{BASE}/requests", 404),
        (f"{BASE}/nothing.xml", 404),
    ],
)
def test_odd_requests_get_the_specs_errors(client, demo, path, status):
    response = client.get(path)
    assert response.status_code == status and response["Content-Type"].startswith(("application/json", "text/xml"))


def test_wrong_methods_and_bodies_get_the_specs_errors(client, demo, submit_key, places):
    put = client.put(f"{BASE}/services.json?jurisdiction_id={MUBA}")
    assert put.status_code == 405 and put["Allow"] == "GET" and json.loads(put.content)[0]["code"] == 405
    as_json = client.post(f"{BASE}/requests.json", json.dumps(spec_request(places, submit_key)), "application/json")
    assert as_json.status_code == 400 and "form-encoded" in json.loads(as_json.content)[0]["description"]


def test_a_region_granted_to_read_is_not_one_to_file_in(client, demo, places):
    key = key_for(demo, Scope.SUBMIT, Scope.READ_CASES, region="parepare")
    parepare = Integration.objects.get(region=demo["parepare"])
    integrations.grant_region(actor=staff_actor("admin.muba"), integration_id=parepare.pk, region_id=demo["muba"].pk)
    response, body = post(client, **spec_request(places, key))
    assert response.status_code == 403 and "own region" in body[0]["description"]
    assert not Case.objects.exists()
