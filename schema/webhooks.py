"""Webhook payloads chosen by a GraphQL subscription document (Saleor's pattern): an endpoint may register
`subscription { webhookEvent { type case { trackingCode status … } } }` instead of taking the default summary. The
document is checked when it is saved (one subscription operation selecting `webhookEvent` only, within the API's
limits) and run for every event with the integration's own permissions, through the same resolvers as the API: it
can select any field, and gets null (or nothing) wherever its scopes would in a query.

The delivery layer reaches this module by name (`WEBHOOK_DOCUMENTS`), as the core reaches the delivery layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from urllib.parse import urlsplit

import graphene
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from graphql import ExecutionResult, OperationDefinitionNode, OperationType, execute

from backend.accounts.actor import Actor, Grant
from backend.cases.errors import CaseErrorCode
from backend.errors import DomainError
from schema.cases.types import CaseEventType, CaseNode
from schema.errors import query_error
from schema.limits import checked_document

ROOT_FIELD = "webhookEvent"


@dataclass(frozen=True)
class Event:
    type: str
    timestamp: datetime
    case: object
    event: object


class WebhookEvent(graphene.ObjectType):
    """One event about one case, as a webhook document sees it (with the integration's permissions)."""

    type = graphene.String(required=True, description="The webhook event type, e.g. `case.status_changed`.")
    timestamp = graphene.DateTime(required=True)
    case = graphene.Field(CaseNode, description="Null when the integration may not see it.")
    event = graphene.Field(CaseEventType, description="The timeline event behind it.")


class WebhookDocumentSubscription(graphene.ObjectType):
    webhook_event = graphene.Field(
        WebhookEvent,
        description="Only for webhook endpoint documents (createWebhookEndpoint's `document`): what an event sends. "
        "Subscribing to it over the WebSocket is refused.",
    )

    @staticmethod
    def resolve_webhook_event(root, info):
        return root

    @staticmethod
    async def subscribe_webhook_event(root, info):
        raise query_error(DomainError(CaseErrorCode.INVALID, _("webhookEvent is for webhook endpoint documents only.")))


def check(text: str) -> list[str]:
    """Why the document cannot be an endpoint's (empty: it can)."""
    document, errors = checked_document(text)
    if errors or document is None:
        return [error.message for error in errors]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.SUBSCRIPTION:
        return [_("The document is one subscription operation.")]
    operation = operations[0]
    if operation.variable_definitions:
        return [_("The document takes no variables.")]
    fields = [s for s in operation.selection_set.selections if getattr(s, "name", None) is not None]
    if len(fields) != len(operation.selection_set.selections) or {f.name.value for f in fields} - {
        ROOT_FIELD,
        "__typename",
    }:
        return [_("The subscription selects webhookEvent only.")]
    return []


class _Context:
    """What resolvers read of a request's context, for an integration outside any request."""

    def __init__(self, grant: Grant):
        self.grant = grant
        self.user = None
        self.session = None

    @cached_property
    def actor(self) -> Actor:
        return Actor.for_integration(self.grant)

    @cached_property
    def request(self) -> HttpRequest:
        """Links (photos) are made absolute on the public address."""
        base = urlsplit(settings.PUBLIC_BASE_URL)
        request = HttpRequest()
        request.META = {
            "SERVER_NAME": base.hostname or "localhost",
            "SERVER_PORT": str(base.port or (443 if base.scheme == "https" else 80)),
            "HTTP_HOST": base.netloc,
            "wsgi.url_scheme": base.scheme,
        }
        if base.scheme == "https":
            request.META["HTTPS"] = "on"
        return request


def render(text: str, grant: Grant, case, event, event_type: str) -> dict:
    """`{data, errors?}` of the document for one event: `data` is what `webhookEvent` selected."""
    from schema import schema

    document, _errors = checked_document(text)
    result = execute(
        schema.graphql_schema,
        document,
        root_value=Event(event_type, event.created_at, case, event),
        context_value=_Context(grant),
    )
    if not isinstance(result, ExecutionResult):  # an awaitable: some resolver was made async
        raise TypeError("webhook documents run synchronously")
    body = {"data": (result.data or {}).get(ROOT_FIELD)}
    if result.errors:
        body["errors"] = [{"message": error.message, "path": error.path} for error in result.errors]
    return body
