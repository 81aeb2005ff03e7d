"""The /graphql endpoint under bad input and hostile queries: clear errors with the right status, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def http():
    return Client()


def post_raw(http, body, content_type="application/json", **extra):
    return http.post("/graphql", body, content_type=content_type, **extra)


def assert_error(response, status, fragment):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert any(fragment in e["message"] for e in payload["errors"]), payload
    return payload


def test_malformed_json(http):
    assert_error(post_raw(http, "{not json"), 400, "invalid JSON")


def test_json_that_is_not_an_object(http):
    assert_error(post_raw(http, "[1, 2]"), 400, "not a valid JSON query")


def test_missing_query(http):
    assert_error(post_raw(http, "{}"), 400, "Must provide query string")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": 42}, "`query` must be a string"),
        ({"query": "{ me { id } }", "variables": [1]}, "`variables` must be a JSON object"),
        ({"query": "{ me { id } }", "operationName": 7}, "`operationName` must be a string"),
    ],
)
def test_wrong_types_in_the_envelope(http, body, fragment):
    assert_error(post_raw(http, json.dumps(body)), 400, fragment)


def test_syntax_error(http):
    assert_error(post_raw(http, json.dumps({"query": "{ me { id "})), 400, "Syntax Error")


def test_unknown_field(http):
    assert_error(post_raw(http, json.dumps({"query": "{ nope }"})), 400, "Cannot query field 'nope'")


def test_wrong_variable_type(http):
    body = {"query": "query($s: String!) { region(slugOrCode: $s) { code } }", "variables": {"s": {"x": 1}}}
    assert_error(post_raw(http, json.dumps(body)), 400, "Variable '$s'")


def test_oversized_body(http, settings):
    settings.GRAPHQL_MAX_BODY_BYTES = 2048
    body = json.dumps({"query": "{ me { id } }", "pad": "x" * 4096})
    payload = assert_error(post_raw(http, body), 413, "larger than")
    assert payload["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_mutation_over_get_is_refused(http):
    mutation = 'mutation { requestOtp(phone: "0812") { phone } }'
    response = http.get("/graphql", {"query": mutation}, HTTP_ACCEPT="application/json")
    assert response.status_code == 405


def test_query_over_get_works(http, demo):
    query = "{ regions { edges { node { code } } } }"
    response = http.get("/graphql", {"query": query}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert len(response.json()["data"]["regions"]["edges"]) == 2


def test_depth_limit(http, settings):
    settings.GRAPHQL_MAX_DEPTH = 4
    deep = "{ regions { edges { node { agencies { region { agencies { region { code } } } } } } } }"
    assert_error(post_raw(http, json.dumps({"query": deep})), 400, "exceeds maximum operation depth")


def test_alias_limit(http, settings):
    settings.GRAPHQL_MAX_ALIASES = 3
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(4)) + " }"
    payload = assert_error(post_raw(http, json.dumps({"query": query})), 400, "4 aliases")
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"


def test_cost_limit_multiplies_page_sizes(http, settings):
    settings.GRAPHQL_MAX_COST = 500
    cheap = "{ regions(first: 10) { edges { node { code name } } } }"
    assert post_raw(http, json.dumps({"query": cheap})).status_code == 200
    costly = "{ regions(first: 100) { edges { node { code name slug kind timezone } } } }"
    payload = assert_error(post_raw(http, json.dumps({"query": costly})), 400, "would cost")
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_cost_limit_sees_through_fragments_and_default_pages(http, settings):
    settings.GRAPHQL_MAX_COST = 300
    query = "query { regions { edges { node { ...R } } } } fragment R on Region { code name slug kind timezone }"
    assert_error(post_raw(http, json.dumps({"query": query})), 400, "would cost")


def test_page_size_above_the_cap(http, demo):
    response = post_raw(http, json.dumps({"query": "{ regions(first: 101) { edges { node { code } } } }"}))
    assert response.status_code == 200
    payload = response.json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 0 and 100" in payload["errors"][0]["message"]


def test_introspection_can_be_turned_off(http, settings):
    query = json.dumps({"query": "{ __schema { types { name } } }"})
    assert post_raw(http, query).status_code == 200
    settings.GRAPHQL_INTROSPECTION = False
    assert_error(post_raw(http, query), 400, "introspection is disabled")


def test_graphiql_only_in_debug(http, settings):
    settings.DEBUG = False
    response = http.get("/graphql", HTTP_ACCEPT="text/html")
    assert b"graphiql" not in response.content.lower()


def test_unexpected_errors_do_not_leak(http, demo, monkeypatch):
    """A bug in a resolver shows as a generic error with its path; the details go to the log only."""
    from backend.regions.models import Region

    def broken(self):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(Region, "working_weekdays", property(broken))
    response = post_raw(http, json.dumps({"query": "{ regions { edges { node { workingWeekdays } } } }"}))
    payload = response.json()
    assert "hunter2" not in response.content.decode()
    assert payload["errors"][0]["message"] == "Internal server error."
    assert payload["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_area_at(http, demo):
    query = '{ areaAt(region: "musi-banyuasin", lat: -1.9, lon: 103.4) { name level parent { name } } }'
    data = json.loads(post_raw(http, json.dumps({"query": query})).content)["data"]
    assert data["areaAt"]["level"] in ("KELURAHAN", "KECAMATAN")
    outside = '{ areaAt(region: "musi-banyuasin", lat: -4.0, lon: 119.7) { name } }'
    assert json.loads(post_raw(http, json.dumps({"query": outside})).content)["data"] == {"areaAt": None}


def test_region_listing_queries_do_not_grow_with_regions(http, demo, django_assert_num_queries):
    selection = "code triageAgency { code } agencies { code } areas { code parent { code } }"
    query = json.dumps({"query": "{ regions { edges { node { " + selection + " } } } }"})
    with django_assert_num_queries(3):  # regions (+ triage agency), agencies, areas (+ parents)
        assert post_raw(http, query).status_code == 200
    from backend.regions.models import Region

    for i in range(5):
        Region.objects.create(code=f"9{i}.01", name=f"R{i}", kind="kota", slug=f"r{i}", timezone="Asia/Jakarta")
    with django_assert_num_queries(3):
        assert post_raw(http, query).status_code == 200
