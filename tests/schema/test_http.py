"""The /graphql endpoint under bad input and hostile queries: clear errors with the right status, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from graphql_relay import to_global_id

from tests.conftest import ACCEPT
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def http():
    return Client(HTTP_ACCEPT=ACCEPT)


def post_raw(http, body, content_type="application/json", **extra):
    return http.post("/graphql", body, content_type=content_type, **extra)


def assert_error(response, status, fragment):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/graphql-response+json; charset=utf-8"
    payload = response.json()
    assert any(fragment in e["message"] for e in payload["errors"]), payload
    return payload


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"query": "{ me { id } }", "variables": {"n": ' + "9" * 5000 + "}}", "too many digits"),
    ],
)
def test_a_body_that_is_not_a_request(http, body, fragment):
    """Typed and in the request's language; a 5,000-digit number is called what it is, not broken JSON."""
    payload = assert_error(post_raw(http, body, HTTP_ACCEPT_LANGUAGE="en"), 400, fragment)
    assert payload["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    indonesian = post_raw(http, body).json()["errors"][0]["message"]
    assert indonesian != payload["errors"][0]["message"]


def test_variables_of_a_get_that_are_not_json(http):
    response = http.get("/graphql", {"query": "{ regions { edges { cursor } } }", "variables": "{x"})
    payload = assert_error(response, 400, "`variables`")
    assert payload["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_missing_query(http):
    assert_error(post_raw(http, "{}", HTTP_ACCEPT_LANGUAGE="en"), 400, "Must provide query string")
    assert_error(post_raw(http, "{}"), 400, "Kirim teks kueri")  # Bahasa Indonesia by default


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": 42}, "`query` must be a string"),
        ({"query": "{ me { id } }", "variables": [1]}, "`variables` must be a JSON object"),
        ({"query": "{ me { id } }", "operationName": 7}, "`operationName` must be a string"),
    ],
)
def test_wrong_types_in_the_envelope(http, body, fragment):
    assert_error(post_raw(http, json.dumps(body), HTTP_ACCEPT_LANGUAGE="en"), 400, fragment)


def test_syntax_error(http):
    payload = assert_error(post_raw(http, json.dumps({"query": "{ me { id "})), 400, "Syntax Error")
    assert payload["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


def test_unknown_field(http):
    payload = assert_error(post_raw(http, json.dumps({"query": "{ nope }"})), 400, "Cannot query field 'nope'")
    assert payload["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_wrong_variable_type(http):
    body = {"query": "query($s: String!) { region(slugOrCode: $s) { code } }", "variables": {"s": {"x": 1}}}
    assert_error(post_raw(http, json.dumps(body)), 400, "Variable '$s'")


def test_fragments_that_spread_themselves(http):
    """A cycle is the standard rule's validation error, not a server's recursion."""
    query = "query { me { ...A } } fragment A on User { id memberships { user { ...A } } }"
    payload = assert_error(post_raw(http, json.dumps({"query": query})), 400, "Cannot spread fragment 'A'")
    assert payload["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_oversized_body(http, settings):
    settings.GRAPHQL_MAX_BODY_BYTES = 2048
    body = json.dumps({"query": "{ me { id } }", "pad": "x" * 4096})
    payload = assert_error(post_raw(http, body), 413, "2048")
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
    payload = assert_error(
        post_raw(http, json.dumps({"query": deep}), HTTP_ACCEPT_LANGUAGE="en"), 400, "more than 4 levels"
    )
    assert payload["errors"][0]["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 4}
    shallow = "{ regions { edges { node { agencies { code } } } } }"  # code is at depth 4: allowed
    assert post_raw(http, json.dumps({"query": shallow})).status_code == 200


def test_alias_limit(http, settings):
    settings.GRAPHQL_MAX_ALIASES = 3
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(4)) + " }"
    payload = assert_error(post_raw(http, json.dumps({"query": query}), HTTP_ACCEPT_LANGUAGE="en"), 400, "4 aliases")
    assert payload["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"


def test_cost_limit_multiplies_page_sizes(http, settings):
    settings.GRAPHQL_MAX_COST = 500
    cheap = "{ regions(first: 10) { edges { node { code name } } } }"
    assert post_raw(http, json.dumps({"query": cheap})).status_code == 200
    costly = "{ regions(first: 100) { edges { node { code name slug kind timezone } } } }"
    payload = assert_error(post_raw(http, json.dumps({"query": costly}), HTTP_ACCEPT_LANGUAGE="en"), 400, "would cost")
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_cost_limit_sees_through_fragments_and_default_pages(http, settings):
    settings.GRAPHQL_MAX_COST = 300
    query = "query { regions { edges { node { ...R } } } } fragment R on Region { code name slug kind timezone }"
    assert_error(post_raw(http, json.dumps({"query": query}), HTTP_ACCEPT_LANGUAGE="en"), 400, "would cost")


# --- documents whose validation alone would hold a CPU: refused before it runs -------------------------------------


def refused_quickly(http, query: str, code: str) -> dict:
    """The document is refused with `code`, before graphql-core's validation could take its time."""
    started = time.monotonic()
    response = post_raw(http, json.dumps({"query": query}))
    took = time.monotonic() - started
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert took < 1, f"refusing it took {took:.2f} s"
    return error


def test_a_field_repeated_twenty_thousand_times_is_refused_at_once(http):
    """`{ me{id} me{id} … }`: graphql-core's merge check compares same-named fields in pairs (20,000 ran for
    minutes); the document is 140 KB, under the body limit."""
    query = "{ " + " ".join(["me{id}"] * 20_000) + " }"
    assert len(query) < 256 * 1024
    refused_quickly(http, query, "QUERY_TOO_LARGE")


def test_fields_repeated_in_one_place(http, settings):
    repeated = "{ " + " ".join(["me{id}"] * (settings.GRAPHQL_MAX_FIELD_REPEATS + 1)) + " }"
    error = refused_quickly(http, repeated, "FIELD_REPEATED")
    assert error["extensions"]["limit"] == settings.GRAPHQL_MAX_FIELD_REPEATS
    # Merged places count together: `id` under several same-named fields is compared as one set.
    merged = "{ " + " ".join(["me{" + " ".join(["id"] * 5) + "}"] * 5) + " }"
    assert refused_quickly(http, merged, "FIELD_REPEATED")["extensions"]["repeats"] == 25
    # Fragments spread where fields are merged count with them.
    spread = " ".join(f"fragment F{i} on User {{ id }}" for i in range(21))
    query = "{ me { " + " ".join(f"...F{i}" for i in range(21)) + " } } " + spread
    refused_quickly(http, query, "FIELD_REPEATED")


def test_fragments_that_double_at_every_level_are_refused_at_once(http):
    """An 800-byte document whose fragments each spread the next twice: 2^20 fields once expanded (the cost rule
    alone took 9 s to find out; at 2^30, hours)."""
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = "{ ...F0 } " + fragments + " fragment F30 on Query { me { id } }"
    assert refused_quickly(http, query, "QUERY_TOO_LARGE")["extensions"]["fields"] > 2**30


def test_too_many_tokens(http, settings):
    settings.GRAPHQL_MAX_TOKENS = 200
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(60)) + " }"
    error = refused_quickly(http, query, "QUERY_TOO_LARGE")
    assert "200" in error["message"]


def test_what_apps_send_passes_the_shape_limits(http, demo):
    """A client that adds `__typename` and `id` to every fragment (Apollo's colocated fragments) stays within them."""
    fragments = " ".join(f"fragment R{i} on Region {{ __typename id code }}" for i in range(10))
    query = "{ regions { edges { node { __typename id " + " ".join(f"...R{i}" for i in range(10)) + " } } } } "
    response = post_raw(http, json.dumps({"query": query + fragments}))
    assert response.status_code == 200 and "errors" not in response.json(), response.json()


@pytest.mark.parametrize("limit", ["repeats", "aliases", "cost", "depth"])
def test_limit_messages_follow_the_language(http, settings, limit):
    settings.GRAPHQL_MAX_ALIASES, settings.GRAPHQL_MAX_COST, settings.GRAPHQL_MAX_DEPTH = 3, 50, 2
    query = {
        "repeats": "{ " + " ".join(["me{id}"] * (settings.GRAPHQL_MAX_FIELD_REPEATS + 1)) + " }",
        "aliases": "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(4)) + " }",
        "cost": "{ regions(first: 100) { edges { node { code } } } }",
        "depth": "{ regions { edges { node { agencies { code } } } } }",
    }[limit]
    body = json.dumps({"query": query})
    indonesian = post_raw(http, body).json()["errors"][0]["message"]
    english = post_raw(http, body, HTTP_ACCEPT_LANGUAGE="en").json()["errors"][0]["message"]
    assert english.startswith("The query") or english.startswith("One field"), english
    assert indonesian != english


def test_page_size_above_the_cap(http, demo):
    response = post_raw(http, json.dumps({"query": "{ regions(first: 101) { edges { node { code } } } }"}))
    assert response.status_code == 200
    payload = response.json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "antara 0 dan 100" in payload["errors"][0]["message"]  # Bahasa Indonesia unless asked otherwise


def test_introspection_can_be_turned_off(http, settings):
    query = json.dumps({"query": "{ __schema { types { name } } }"})
    assert post_raw(http, query).status_code == 200
    settings.GRAPHQL_INTROSPECTION = False
    payload = assert_error(post_raw(http, query), 400, "Introspeksi")
    assert payload["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    # `__type` too; `__typename` stays: Apollo Client adds it to every selection.
    assert_error(post_raw(http, json.dumps({"query": '{ __type(name: "Case") { name } }'})), 400, "Introspeksi")
    typed = post_raw(http, json.dumps({"query": "{ __typename regions { edges { node { __typename code } } } }"}))
    assert typed.status_code == 200 and typed.json()["data"]["__typename"] == "Query"


def test_without_introspection_errors_suggest_no_names(http, settings, demo):
    """ "Did you mean 'revealPermitNik'?" would hand out the schema that introspection keeps to itself: in validation
    (fields, arguments, types) and in variables' values (enum values)."""
    documents = [
        {"query": "{ regionz { code } }"},
        {"query": "{ regions { edges { node { areas(levl: KECAMATAN) { code } } } } }"},
        {
            "query": "query($l: AreaLevel) { regions { edges { node { areas(level: $l) { code } } } } }",
            "variables": {"l": "KECAMATN"},
        },
    ]
    with_suggestions = [post_raw(http, json.dumps(body)).json()["errors"][0]["message"] for body in documents]
    assert all("Did you mean" in message for message in with_suggestions), with_suggestions
    settings.GRAPHQL_INTROSPECTION = False
    without = [post_raw(http, json.dumps(body)).json()["errors"][0]["message"] for body in documents]
    assert not any("Did you mean" in message or "KECAMATAN" in message for message in without), without
    assert without[0] == "Cannot query field 'regionz' on type 'Query'."


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


# --- bad input gets a typed answer, never a server error -----------------------------------------------------------

NUL_QUERIES = [
    ('query($v: String!) { caseByTrackingCode(region: "16.06", trackingCode: $v) { id } }', "ADU-2026-1\x00"),
    ("query($v: String!) { region(slugOrCode: $v) { code } }", "musi\x00banyuasin"),
    ("query($v: String!) { permitTypes(region: $v) { code } }", "musi-banyuasin\x00"),
    ("query($v: String!) { verifyPermit(token: $v) { validity } }", "abc\x00"),
    ("query($v: String!) { areaAt(region: $v, lat: -2.9, lon: 104.0) { code } }", "\x00"),
    (
        'mutation($v: String!) { createPermitDraft(region: $v, permitType: "pbg", applicantKind: INDIVIDUAL) {'
        " errors { code } } }",
        "musi-banyuasin\x00",
    ),
    ("mutation($v: String!) { updateProfile(fullName: $v) { errors { code } } }", "Budi\x00"),
    ("mutation($v: String!) { registerDevice(token: $v, platform: ANDROID) { errors { code } } }", "tok\x00en"),
    ("mutation($v: String!) { unregisterDevice(token: $v) { errors { code } } }", "tok\x00en"),
]


@pytest.mark.parametrize(("query", "value"), NUL_QUERIES)
def test_a_nul_character_is_refused_before_anything_runs(gql, resident, query, value):
    """PostgreSQL's text takes no NUL: every such argument once ended in a server error."""
    gql.sign_in_as(resident)
    response = gql.post(query, {"v": value})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": ["v"]}


def test_a_nul_character_in_a_literal_or_deep_in_a_variable(gql, resident):
    gql.sign_in_as(resident)
    literal = gql.post('mutation { updateProfile(fullName: "Budi\\u0000") { errors { code } } }')
    assert literal.status_code == 400 and literal.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    nested = gql.post(
        "mutation($i: SubmitComplaintInput!) { submitComplaint(input: $i) { errors { code } } }",
        {"i": {"region": "16.06", "category": "1", "description": "x", "lat": 0, "lon": 0, "extra": {"a": ["b\x00"]}}},
    )
    assert nested.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "variable": ["i", "extra", "a", 0],
    }


def test_values_nested_thousands_deep(http):
    deep = "[" * 3000 + "]" * 3000
    query = 'query($b: [Float!]) { publicComplaints(region: "16.06", bbox: $b) { edges { node { id } } } }'
    body = '{"query": ' + json.dumps(query) + ', "variables": {"b": ' + deep + "}}"
    response = post_raw(http, body)
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    literal = '{ publicComplaints(region: "16.06", bbox: ' + deep + ") { edges { node { id } } } }"
    response = post_raw(http, json.dumps({"query": literal}))
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
    # Deeper than any input of this API, but not deep enough to trouble Python's JSON: refused by name.
    response = post_raw(http, json.dumps({"query": query, "variables": {"b": json.loads("[" * 40 + "]" * 40)}}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "variable": "b"}


@pytest.mark.parametrize(
    "global_id",
    [
        "bm90LWJhc2U2NA",
        "%%%",
        "",
        to_global_id("Case", "xxx"),
        to_global_id("Case", "-1"),
        to_global_id("Case", 2**70),
        to_global_id("Case", "9" * 5000),  # past Python's 4,300-digit limit for int()
        to_global_id("Nope", 1),
        to_global_id("CaseUpdate", 1),
    ],
)
def test_node_with_an_id_that_is_not_one(gql, demo, global_id):
    payload = gql.post("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}).json()
    assert payload["data"] == {"node": None}
    assert payload["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ regions(first: " + "9" * 4301 + ") { edges { cursor } } }", {}),
        ("mutation($c: ID!) { acceptCase(caseId: $c) { errors { code } } }", {"c": to_global_id("Case", "9" * 5000)}),
        (
            'query($a: ID) { publicComplaints(region: "16.06", area: $a) { edges { cursor } } }',
            {"a": to_global_id("Area", "9" * 5000)},
        ),
        ('query($c: ID) { publicComplaints(region: "16.06", category: $c) { edges { cursor } } }', {"c": "9" * 5000}),
        ("query($r: String!) { region(slugOrCode: $r) { id } }", {"r": "\ud800"}),
        ("query($r: String!) { region(slugOrCode: $r) { id } }", {"r": {"\udfff": 1}}),
    ],
)
def test_numbers_and_text_no_database_can_hold(gql, demo, query, variables):
    """Thousands of digits (Python's int() refuses them), a key past the bigint, a lone surrogate (UTF-8 has none):
    each a typed refusal, never a server error."""
    gql.sign_in_as(staff_user("pupr.staf"))
    response = gql.post(query, variables)
    assert response.status_code in (200, 400), response.content
    payload = response.json()
    codes = {error["extensions"]["code"] for error in payload.get("errors", [])}
    codes |= (
        {
            error["code"].upper()
            for value in (payload.get("data") or {}).values()
            for error in (value or {}).get("errors", [])
        }
        if isinstance(payload.get("data"), dict)
        else set()
    )
    assert codes and "INTERNAL_SERVER_ERROR" not in codes, payload


def test_a_filter_that_names_nothing_is_an_error_not_no_filter(gql, demo):
    """publicComplaints with an unknown area or category once answered the whole list."""
    for argument, value in (("area", to_global_id("Area", 987654)), ("area", "garbage"), ("category", "999999")):
        query = f'query($v: ID) {{ publicComplaints(region: "16.06", {argument}: $v) {{ edges {{ cursor }} }} }}'
        payload = gql.post(query, {"v": value}).json()
        assert payload["data"] == {"publicComplaints": None}
        assert payload["errors"][0]["extensions"]["code"] in {"INVALID", "UNKNOWN_CATEGORY"}


def test_node_with_an_id_of_nothing_you_may_see_is_null(gql, demo):
    assert gql("query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Case", 987654)}) == {"node": None}


def test_offset_is_no_page_argument(http, demo):
    """Pages are cut at a row (keyset cursors, tests/schema/test_pages.py), never counted: `offset` is unknown."""
    response = post_raw(http, json.dumps({"query": "{ regions(offset: 1) { edges { node { code } } } }"}))
    assert response.status_code == 400
    assert "offset" in response.json()["errors"][0]["message"]


# --- GraphQL over HTTP as Apollo Client and urql speak it ----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/json;q=0.5, application/graphql-response+json;q=0.5", "application/graphql-response+json"),
        ("application/graphql-response+json;q=0.4, application/json;q=0.5", "application/json"),
        ("*/*", "application/graphql-response+json"),
        ("text/html;q=0.9, application/json", "application/json"),
    ],
)
def test_the_response_media_type_follows_the_accepted_quality(demo, accept, media):
    response = Client().post("/graphql", json.dumps({"query": "{ nope }"}), "application/json", HTTP_ACCEPT=accept)
    assert response["Content-Type"] == f"{media}; charset=utf-8"


def test_media_types_and_status_codes_follow_graphql_over_http(http, demo):
    """`application/graphql-response+json` (what Apollo Client and urql ask for first): a request that cannot run is
    a 4xx whose body is a GraphQL response. `application/json` (older clients, or no Accept): 200 and the errors in
    the body. Not well formed: 400 either way."""
    invalid = json.dumps({"query": "{ nope }"})
    legacy = Client()  # no Accept header
    for client, accept, media, status in (
        (http, ACCEPT, "application/graphql-response+json", 400),
        (legacy, "application/json", "application/json", 200),
        (legacy, None, "application/json", 200),
    ):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = post_raw(client, invalid, **headers)
        assert (response.status_code, response["Content-Type"]) == (status, f"{media}; charset=utf-8")
        assert response.json()["errors"][0]["message"].startswith("Cannot query field 'nope'")
        bad_token = post_raw(client, json.dumps({"query": "{ me { id } }"}), HTTP_AUTHORIZATION="Bearer x", **headers)
        assert bad_token.status_code == (401 if status == 400 else 200)
        assert bad_token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert post_raw(client, "{not json", **headers).status_code == 400
    ok = post_raw(http, json.dumps({"query": "{ regions { edges { node { code } } } }"}))
    assert ok.status_code == 200 and ok["Content-Type"] == "application/graphql-response+json; charset=utf-8"


def test_a_get_with_a_json_content_type_works(http, demo):
    """Apollo Client's useGETForQueries sends `Content-Type: application/json` on its GETs."""
    response = http.get(
        "/graphql", {"query": "{ regions { edges { node { code } } } }"}, CONTENT_TYPE="application/json"
    )
    assert response.status_code == 200 and len(response.json()["data"]["regions"]["edges"]) == 2


APQ_QUERY = "query Regions { regions { edges { node { code } } } }"
APQ_HASH = __import__("hashlib").sha256(APQ_QUERY.encode()).hexdigest()


def apq(hash_=APQ_HASH, version=1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": hash_}}


def test_automatic_persisted_queries_as_apollo_sends_them(http, demo):
    """Hash only → PERSISTED_QUERY_NOT_FOUND; the query with its hash → run and kept; then the hash alone, over POST
    or GET, runs it."""
    first = post_raw(http, json.dumps({"extensions": apq(), "operationName": "Regions"})).json()
    assert first["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"  # what Apollo's link matches on
    sent = post_raw(http, json.dumps({"query": APQ_QUERY, "extensions": apq()}))
    assert sent.status_code == 200 and len(sent.json()["data"]["regions"]["edges"]) == 2
    again = post_raw(http, json.dumps({"extensions": apq(), "operationName": "Regions"}))
    assert again.status_code == 200 and again.json() == sent.json()
    by_get = http.get("/graphql", {"extensions": json.dumps(apq()), "operationName": "Regions"})
    assert by_get.status_code == 200 and by_get.json() == sent.json()
    # Only a document that proved valid is kept under its hash.
    broken = "{ regions { nope } }"
    broken_hash = __import__("hashlib").sha256(broken.encode()).hexdigest()
    assert post_raw(http, json.dumps({"query": broken, "extensions": apq(broken_hash)})).status_code == 400
    unknown = post_raw(http, json.dumps({"extensions": apq(broken_hash)})).json()
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ regions { edges { node { code } } } }", "extensions": apq()}, "PERSISTED_QUERY_HASH_MISMATCH"),
        ({"extensions": apq(version=2)}, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"extensions": apq("ABC")}, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": "x"}}, "PERSISTED_QUERY_NOT_SUPPORTED"),
    ],
)
def test_persisted_queries_that_cannot_be_right(http, demo, body, code):
    assert post_raw(http, json.dumps(body)).json()["errors"][0]["extensions"]["code"] == code


def test_only_known_hashes_when_the_mode_says_so(http, demo, settings, tmp_path):
    manifest = tmp_path / "persisted-query-manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": APQ_HASH, "name": "Regions", "type": "query", "body": APQ_QUERY}],
            }
        )
    )
    settings.GRAPHQL_APQ, settings.GRAPHQL_APQ_MANIFEST = "known", str(manifest)
    known = post_raw(http, json.dumps({"extensions": apq()}))
    assert known.status_code == 200 and "regions" in known.json()["data"]
    other = "{ regions { edges { node { name } } } }"
    other_hash = __import__("hashlib").sha256(other.encode()).hexdigest()
    assert post_raw(http, json.dumps({"query": other, "extensions": apq(other_hash)})).status_code == 200  # runs
    unknown = post_raw(http, json.dumps({"extensions": apq(other_hash)})).json()  # but is not kept
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    settings.GRAPHQL_APQ = "off"
    assert post_raw(http, json.dumps({"extensions": apq()})).status_code == 400  # no query: not well formed
