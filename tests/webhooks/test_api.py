"""Integrations and webhooks through /graphql: region admins manage integrations and keys; an integration calls
with its API key, reads what its scopes allow and manages its own endpoints. Every refusal typed."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from backend.integrations.models import ApiKey, AuditEntry
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db

INTEGRATION = "integration { id name scopes keys { prefix lastUsedAt revokedAt } endpoints { id url } }"
ERRORS = "errors { code field }"


def create(gql, username="admin.muba", region="musi-banyuasin", scopes=("READ_CASES", "MANAGE_WEBHOOKS")):
    gql.sign_in_as(staff_user(username))
    return gql(
        'mutation($r: String!, $s: [IntegrationScope!]) { createIntegration(region: $r, name: "PDAM Tirta",'
        f' contactEmail: "it@pdam.example", scopes: $s) {{ {INTEGRATION} {ERRORS} }} }}',
        {"r": region, "s": list(scopes)},
    )["createIntegration"]


def issue(gql, integration_id):
    return gql(
        f'mutation($i: ID!) {{ issueApiKey(integrationId: $i, name: "prod") {{ secret apiKey {{ id prefix }} {ERRORS} }} }}',
        {"i": integration_id},
    )["issueApiKey"]


@pytest.fixture
def keyed(gql, demo):
    """An integration of Musi Banyuasin and its API key (the client's token from now on)."""
    created = create(gql)
    assert created["errors"] == [], created
    issued = issue(gql, created["integration"]["id"])
    assert issued["errors"] == [] and issued["secret"].startswith("simpul_")
    gql.token = issued["secret"]
    return created["integration"], issued


def test_an_admin_makes_an_integration_and_its_key_is_shown_once(gql, keyed):
    _integration, issued = keyed
    key = ApiKey.objects.get()
    assert issued["secret"] not in (key.digest, key.prefix) and issued["apiKey"]["prefix"] == key.prefix
    me = gql("{ myIntegration { name scopes keys { prefix lastUsedAt } } }")["myIntegration"]
    assert me["name"] == "PDAM Tirta" and me["scopes"] == ["READ_CASES", "MANAGE_WEBHOOKS"]
    assert me["keys"][0]["lastUsedAt"] is not None and "secret" not in str(me)
    assert [e.action for e in AuditEntry.objects.order_by("at", "pk")] == ["created", "key_issued"]


def test_a_revoked_key_stops_working(gql, keyed):
    _integration, issued = keyed
    gql.sign_in_as(staff_user("admin.muba"))
    revoked = gql(
        f"mutation($k: ID!) {{ revokeApiKey(keyId: $k) {{ apiKey {{ revokedAt }} {ERRORS} }} }}",
        {"k": issued["apiKey"]["id"]},
    )["revokeApiKey"]
    assert revoked["errors"] == [] and revoked["apiKey"]["revokedAt"]
    response = gql.post("{ myIntegration { name } }", token=issued["secret"])
    assert response.status_code == 401 and response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert gql.post("{ myIntegration { name } }", token=issued["secret"][:-2] + "xx").status_code == 401


@pytest.mark.parametrize(("username", "code"), [("pupr.staf", "FORBIDDEN"), ("admin.parepare", "FORBIDDEN")])
def test_only_the_regions_admins_make_integrations(gql, demo, username, code):
    assert [e["code"] for e in create(gql, username)["errors"]] == [code]


def test_another_regions_admin_sees_nothing(gql, keyed):
    integration, _issued = keyed
    gql.sign_in_as(staff_user("admin.parepare"))
    refused = gql.post('{ integrations(region: "musi-banyuasin") { name } }').json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql("query($i: ID!) { node(id: $i) { id } }", {"i": integration["id"]})["node"] is None
    result = gql(
        f"mutation($i: ID!) {{ issueApiKey(integrationId: $i) {{ secret {ERRORS} }} }}", {"i": integration["id"]}
    )["issueApiKey"]
    assert result == {"secret": None, "errors": [{"code": "NOT_FOUND", "field": None}]}


def test_bad_scopes_and_emails_are_refused(gql, demo):
    gql.sign_in_as(staff_user("admin.muba"))
    result = gql(
        'mutation { createIntegration(region: "musi-banyuasin", name: "X", contactEmail: "bukan-email") '
        f"{{ {ERRORS} }} }}"
    )["createIntegration"]
    assert result["errors"] == [{"code": "INVALID", "field": "contactEmail"}]


CASE = "query($i: ID!) { node(id: $i) { ... on Case { trackingCode reporterName reporterPhone timeline { type } permit { id } } } }"


def test_a_key_reads_its_regions_cases_without_who_reported_them(gql, keyed, submit, category, places):
    filed = submit(category("jalan-rusak"), *places["lais"])["case"]
    gql.token = keyed[1]["secret"]
    case = gql(CASE, {"i": filed["id"]})["node"]
    assert case["trackingCode"] == filed["trackingCode"]
    assert case["reporterName"] is None and case["reporterPhone"] is None
    assert {"routed"} <= {e["type"] for e in case["timeline"]}


def test_confidential_cases_need_their_scope(gql, keyed, submit, category, places):
    hidden = submit(category("jalan-rusak"), *places["lais"], confidential=True)["case"]
    gql.token = keyed[1]["secret"]
    assert gql(CASE, {"i": hidden["id"]})["node"] is None


def test_another_regions_cases_are_not_read(gql, keyed, submit, category, places):
    other = submit(category("jalan-rusak", "parepare"), *places["parepare"], region="parepare", confidential=True)
    gql.token = keyed[1]["secret"]
    assert gql(CASE, {"i": other["case"]["id"]})["node"] is None


def test_the_integration_manages_its_own_endpoints(gql, keyed, receiver, settings):
    integration, _issued = keyed
    made = gql(
        "mutation($i: ID!, $in: WebhookEndpointInput!) { createWebhookEndpoint(integrationId: $i, input: $in) {"
        f" secret endpoint {{ id url eventTypes active }} {ERRORS} }} }}",
        {"i": integration["id"], "in": {"url": receiver.url, "eventTypes": ["case.submitted"]}},
    )["createWebhookEndpoint"]
    assert made["errors"] == [] and made["secret"].startswith("whsec_")
    receiver.secrets.append(made["secret"])
    pinged = gql(
        f"mutation($e: ID!) {{ pingWebhookEndpoint(endpointId: $e) {{ attempt {{ statusCode }} {ERRORS} }} }}",
        {"e": made["endpoint"]["id"]},
    )["pingWebhookEndpoint"]
    assert pinged["attempt"]["statusCode"] == 200 and receiver.unverified == []
    deliveries = gql(
        "query($e: ID!) { node(id: $e) { ... on WebhookEndpoint { deliveries { id webhookId status eventType "
        "attemptLog { statusCode } } } } }",
        {"e": made["endpoint"]["id"]},
    )["node"]["deliveries"]
    assert deliveries[0]["eventType"] == "webhook.ping" and deliveries[0]["status"] == "DELIVERED"
    again = gql(
        f"mutation($d: ID!) {{ redeliverWebhook(deliveryId: $d) {{ delivery {{ webhookId attempts }} {ERRORS} }} }}",
        {"d": deliveries[0]["id"]},
    )["redeliverWebhook"]
    assert again["errors"] == [] and receiver.received[-1].headers["webhook-id"] == deliveries[0]["webhookId"]


def test_without_the_manage_scope_an_integration_has_no_endpoints(gql, demo, receiver):
    created = create(gql, scopes=("READ_CASES",))
    gql.token = issue(gql, created["integration"]["id"])["secret"]
    made = gql(
        "mutation($i: ID!, $in: WebhookEndpointInput!) { createWebhookEndpoint(integrationId: $i, input: $in) {"
        f" secret {ERRORS} }} }}",
        {"i": created["integration"]["id"], "in": {"url": receiver.url}},
    )["createWebhookEndpoint"]
    assert made == {"secret": None, "errors": [{"code": "FORBIDDEN", "field": "integrationId"}]}
    from graphql_relay import from_global_id

    from notifications.webhooks import services
    from tests.helpers import staff_actor

    theirs, _secret = services.create_endpoint(  # an endpoint its admins made for it
        actor=staff_actor("admin.muba"),
        integration_id=int(from_global_id(created["integration"]["id"])[1]),
        values=services.EndpointInput(url=receiver.url),
    )
    pinged = gql(
        f"mutation($e: ID!) {{ pingWebhookEndpoint(endpointId: $e) {{ {ERRORS} }} }}",
        {"e": to_global_id("WebhookEndpoint", theirs.pk)},
    )["pingWebhookEndpoint"]
    assert pinged["errors"] == [{"code": "FORBIDDEN", "field": "endpointId"}]  # told which scope, as on create


def test_endpoint_input_is_checked_whole(gql, keyed, demo):
    integration, _issued = keyed
    parepare_agency = demo["parepare"].agencies.first()
    made = gql(
        "mutation($i: ID!, $in: WebhookEndpointInput!) { createWebhookEndpoint(integrationId: $i, input: $in) {"
        f" secret {ERRORS} }} }}",
        {
            "i": integration["id"],
            "in": {
                "url": "http://10.0.0.8/hook",
                "eventTypes": ["case.exploded"],
                "agencies": [to_global_id("Agency", parepare_agency.pk)],
            },
        },
    )["createWebhookEndpoint"]
    assert made["secret"] is None and sorted((e["code"], e["field"]) for e in made["errors"]) == [
        ("INVALID", "agencies"),
        ("INVALID", "eventTypes"),
        ("UNSAFE_URL", "url"),
    ]


def test_dry_run_renders_without_sending(gql, keyed, receiver, submit, category, places):
    integration, issued = keyed
    made = gql(
        "mutation($i: ID!, $in: WebhookEndpointInput!) { createWebhookEndpoint(integrationId: $i, input: $in) {"
        " endpoint { id } } }",
        {"i": integration["id"], "in": {"url": receiver.url, "eventTypes": ["case.resolved"]}},
    )["createWebhookEndpoint"]
    filed = submit(category("jalan-rusak"), *places["lais"])["case"]
    gql.token = issued["secret"]
    body = gql(
        'query($e: ID!, $c: ID!) { webhookDryRun(endpointId: $e, caseId: $c, eventType: "case.resolved") }',
        {"e": made["endpoint"]["id"], "c": filed["id"]},
    )["webhookDryRun"]
    assert body["type"] == "case.resolved" and body["data"]["trackingCode"] == filed["trackingCode"]
    assert receiver.received == []
    permit_type = gql.post(
        'query($e: ID!, $c: ID!) { webhookDryRun(endpointId: $e, caseId: $c, eventType: "permit.issued") }',
        {"e": made["endpoint"]["id"], "c": filed["id"]},
    ).json()
    assert permit_type["errors"][0]["extensions"]["code"] == "INVALID"  # a complaint is never issued


def test_event_types_are_listed(gql, demo):
    names = [t["name"] for t in gql("{ webhookEventTypes { name description } }")["webhookEventTypes"]]
    assert "case.status_changed" in names and "permit.issued" in names


def test_query_refusals_are_typed(gql, keyed, demo):
    integration, _issued = keyed
    gql.sign_in_as(staff_user("admin.muba"))
    unknown = gql.post('{ integrations(region: "zz") { name } }').json()
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad_scope = gql.post(
        "mutation($i: ID!, $s: [IntegrationScope!]) { updateIntegration(integrationId: $i, scopes: $s) { "
        "errors { code } } }",
        {"i": integration["id"], "s": ["cases:read"]},  # the value, not the enum's name
    ).json()
    assert bad_scope["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    made = gql(
        "mutation($i: ID!, $in: WebhookEndpointInput!) { createWebhookEndpoint(integrationId: $i, input: $in) {"
        " endpoint { id } } }",
        {"i": integration["id"], "in": {"url": "http://127.0.0.1:9/hook"}},
    )["createWebhookEndpoint"]["endpoint"]
    dry = gql.post(
        'query($e: ID!) { webhookDryRun(endpointId: $e, caseId: "garbage", eventType: "case.resolved") }',
        {"e": made["id"]},
    ).json()
    assert dry["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = gql.post(
        "query($e: ID!) { node(id: $e) { ... on WebhookEndpoint { deliveries(first: 201) { id } } } }",
        {"e": made["id"]},
    ).json()
    assert too_many["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


def test_an_empty_name_says_so(gql, demo):
    gql.sign_in_as(staff_user("admin.muba"))
    result = gql(
        'mutation { createIntegration(region: "musi-banyuasin", name: "  ", contactEmail: "a@b.example") '
        "{ errors { code field message } } }"
    )["createIntegration"]
    assert result["errors"] == [{"code": "INVALID", "field": "name", "message": "Ini tidak boleh kosong."}]
