"""Subscription documents: an endpoint chooses its payload with GraphQL, checked when saved and run with the
integration's permissions, so no scope is widened by asking for more fields."""

from __future__ import annotations

import pytest
from django.test import TestCase

from backend.accounts.actor import Actor, Scope
from backend.cases.models import Case
from backend.cases.services import transition
from backend.errors import DomainErrors
from backend.integrations import services as integrations
from notifications.webhooks import services
from tests.helpers import staff_actor

pytestmark = pytest.mark.django_db

ADMIN = "admin.muba"
DOCUMENT = """subscription { webhookEvent { type
  event { type visibility }
  case { trackingCode status reporterName reporterPhone assigneeName
         complaint { description confidential } permit { nik applicantName }
         photos { url } timeline { type visibility } } } }"""


@pytest.fixture
def documented(integration, receiver):
    endpoint, secret = services.create_endpoint(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, document=DOCUMENT),
    )
    receiver.secrets.append(secret)
    return endpoint


def act(case, action, **payload):
    with TestCase.captureOnCommitCallbacks(execute=True):
        transition(Case.objects.get(pk=case.pk), action, actor=staff_actor("pupr.staf"), payload=payload)


def test_the_document_chooses_the_payload(documented, receiver, road_complaint):
    first = receiver.received[0].json
    assert set(first) == {"type", "timestamp", "data"} and receiver.unverified == []
    data = first["data"]
    assert data["type"] == "case.submitted" and data["case"]["trackingCode"] == road_complaint.tracking_code
    assert set(data["case"]) == {
        "trackingCode", "status", "reporterName", "reporterPhone", "assigneeName", "complaint", "permit", "photos",
        "timeline",
    }  # fmt: skip


def test_no_scope_reaches_a_reporter_an_assignee_or_an_internal_note(documented, receiver, road_complaint):
    act(road_complaint, "note", text="Pelapor minta dihubungi lewat WA")
    act(road_complaint, "accept")
    last = receiver.received[-1].json["data"]["case"]
    assert last["reporterName"] is None and last["reporterPhone"] is None and last["assigneeName"] is None
    assert {e["visibility"] for e in last["timeline"]} == {"PUBLIC"}
    assert "WA" not in receiver.received[-1].body.decode()
    assert last["photos"] == [] and last["permit"] is None


def test_confidential_content_needs_its_scope(integration, documented, receiver, submit, category, places):
    submit(category("jalan-rusak"), *places["lais"], confidential=True)
    assert receiver.received == []  # without cases:read_confidential nothing about it is sent
    integrations.update_integration(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        scopes=[Scope.READ_CASES, Scope.READ_CONFIDENTIAL, Scope.MANAGE_WEBHOOKS],
    )
    submit(category("jalan-rusak"), *places["lais"], confidential=True)
    assert receiver.received[0].json["data"]["case"]["complaint"]["confidential"] is True


def test_a_permit_case_shows_no_application(documented, receiver, gql, resident, local_media):
    from tests.permits.conftest import Permits

    Permits(gql).filed(resident)
    submitted = [i.json["data"] for i in receiver.received if i.json["data"]["type"] == "permit.submitted"]
    assert submitted and submitted[0]["case"]["permit"] is None
    assert "nik" not in receiver.received[-1].body.decode().replace('"nik":null', "")


@pytest.mark.parametrize(
    "document",
    [
        "subscription { webhookEvent { type",  # does not parse
        "query { me { id } }",
        'subscription { caseUpdated(id: "1") { eventType } }',
        "subscription { webhookEvent { nosuchfield } }",
        "subscription($x: ID) { webhookEvent { type } }",
        "subscription A { webhookEvent { type } } subscription B { webhookEvent { type } }",
        "subscription { webhookEvent { case { " + "timeline { case { " * 10 + "id" + " } }" * 10 + " } } }",
    ],
)
def test_unusable_documents_are_refused_when_saved(integration, receiver, document):
    with pytest.raises(DomainErrors) as refused:
        services.create_endpoint(
            actor=staff_actor(ADMIN),
            integration_id=integration.pk,
            values=services.EndpointInput(url=receiver.url, document=document),
        )
    assert [(e.code, e.field) for e in refused.value.errors] == [("invalid_document", "document")]


def test_a_document_cannot_be_subscribed_to_live(resident):
    """What the WebSocket consumer runs (graphql-core's subscribe) refuses webhookEvent with a coded error."""
    import asyncio

    from graphql import parse, subscribe

    from schema import schema

    class Context:
        actor = Actor.for_user(resident)

    result = asyncio.run(
        subscribe(schema.graphql_schema, parse("subscription { webhookEvent { type } }"), context_value=Context())
    )
    assert result.errors and result.errors[0].extensions["code"] == "INVALID"
