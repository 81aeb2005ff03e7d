"""Integrations in the API: region admins make them, issue and revoke their API keys and grant scopes; an integration
(with `webhooks:manage`, calling with its key) or its admins manage its webhook endpoints, look at deliveries,
redeliver, ping and dry-run. Thin: every rule is in backend.integrations and notifications.webhooks."""

from __future__ import annotations

import json

import graphene
from django.utils.translation import gettext as _
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType
from graphql import GraphQLError
from graphql_relay import to_global_id

from backend.accounts.actor import Scope
from backend.errors import DomainError
from backend.integrations import selectors
from backend.integrations import services as integrations
from backend.integrations.errors import IntegrationErrorCode
from backend.integrations.models import ApiKey, AuditEntry, Integration
from backend.regions import selectors as region_selectors
from notifications.webhooks import events
from notifications.webhooks import services as webhooks
from notifications.webhooks.models import Attempt, Endpoint, Message, MessageStatus
from schema.errors import DomainMutation, error_type, query_error
from schema.fields import node_pk, parse_pk
from schema.regions import RegionNode

IntegrationError = error_type("IntegrationError", IntegrationErrorCode, "managing an integration or its webhooks")
ScopeEnum = graphene.Enum.from_enum(Scope, name="IntegrationScope")
DeliveryStatusEnum = graphene.Enum.from_enum(MessageStatus, name="WebhookDeliveryStatus")


class ApiKeyType(DjangoObjectType):
    class Meta:
        model = ApiKey
        name = "ApiKey"
        fields = ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")


class AuditEntryType(DjangoObjectType):
    by = graphene.String(description="Who made the change (null: the integration itself or the system).")

    class Meta:
        model = AuditEntry
        name = "IntegrationAuditEntry"
        fields = ("at", "action", "detail")

    @staticmethod
    def resolve_by(entry, info):
        return str(entry.user) if entry.user_id else None


class WebhookAttemptType(DjangoObjectType):
    class Meta:
        model = Attempt
        name = "WebhookAttempt"
        fields = ("at", "manual", "status_code", "duration_ms", "response_headers", "response_body", "error")


class WebhookDeliveryType(graphene.ObjectType):
    class Meta:
        name = "WebhookDelivery"

    id = graphene.ID(required=True, description="Give it to redeliverWebhook.")
    webhook_id = graphene.String(required=True, description="The `webhook-id` header, the same on every retry.")
    event_type = graphene.String(required=True)
    status = graphene.Field(DeliveryStatusEnum, required=True)
    attempts = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    next_attempt_at = graphene.DateTime(description="When it is tried again (pending ones).")
    delivered_at = graphene.DateTime()
    payload = graphene.String(description="The body sent (null once purged).")
    attempt_log = graphene.List(graphene.NonNull(WebhookAttemptType), required=True)

    @staticmethod
    def from_message(message: Message) -> WebhookDeliveryType:
        return WebhookDeliveryType(
            id=str(message.seq),
            webhook_id=message.webhook_id,
            event_type=message.event_type,
            status=message.status,
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=message.next_attempt_at if message.status == MessageStatus.PENDING else None,
            delivered_at=message.delivered_at,
            payload=message.body if message.purged_at is None else None,
            attempt_log=list(message.attempt_log.all()),
        )


class WebhookEndpointNode(DjangoObjectType):
    event_types = graphene.List(graphene.NonNull(graphene.String), required=True, description="Empty: all of them.")
    agencies = graphene.List(graphene.NonNull(graphene.ID), required=True, description="Agency ids (empty: all).")
    areas = graphene.List(graphene.NonNull(graphene.ID), required=True, description="Area ids (empty: all).")
    categories = graphene.List(graphene.NonNull(graphene.ID), required=True, description="Complaint category ids.")
    permit_types = graphene.List(graphene.NonNull(graphene.String), required=True, description="Permit type codes.")
    deliveries = graphene.List(
        graphene.NonNull(WebhookDeliveryType),
        required=True,
        status=DeliveryStatusEnum(),
        first=graphene.Int(default_value=50, description="At most 200."),
        description="The latest deliveries, newest first.",
    )

    class Meta:
        model = Endpoint
        name = "WebhookEndpoint"
        interfaces = (relay.Node,)
        fields = ("url", "description", "document", "active", "disabled_reason", "failing_since", "created_at")

    @classmethod
    def get_node(cls, info, id):
        endpoint = Endpoint.objects.select_related("integration").filter(pk=id).first()
        return endpoint if endpoint and selectors.can_see(info.context.actor, endpoint.integration) else None

    @staticmethod
    def resolve_agencies(endpoint, info):
        return [to_global_id("Agency", pk) for pk in endpoint.agencies]

    @staticmethod
    def resolve_areas(endpoint, info):
        return [to_global_id("Area", pk) for pk in endpoint.areas]

    @staticmethod
    def resolve_categories(endpoint, info):
        return [str(pk) for pk in endpoint.categories]

    @staticmethod
    def resolve_deliveries(endpoint, info, first=50, status=None):
        if not 0 <= first <= 200:
            message = _("`first` is 0 to 200.")
            raise GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "argument": "first"})
        messages = endpoint.messages.order_by("-seq").prefetch_related("attempt_log")
        if status is not None:
            messages = messages.filter(status=getattr(status, "value", status))
        return [WebhookDeliveryType.from_message(m) for m in messages[:first]]


class IntegrationNode(DjangoObjectType):
    scopes = graphene.List(graphene.NonNull(ScopeEnum), required=True)
    region = graphene.Field(RegionNode, required=True)
    granted_regions = graphene.List(graphene.NonNull(RegionNode), required=True)
    keys = graphene.List(graphene.NonNull(ApiKeyType), required=True, description="Active and revoked, newest first.")
    endpoints = graphene.List(graphene.NonNull(WebhookEndpointNode), required=True)
    audit = graphene.List(graphene.NonNull(AuditEntryType), required=True, description="The latest 100 changes.")

    class Meta:
        model = Integration
        name = "Integration"
        interfaces = (relay.Node,)
        fields = ("name", "contact_name", "contact_email", "active", "created_at")

    @classmethod
    def get_node(cls, info, id):
        integration = Integration.objects.filter(pk=id).first()
        return integration if integration and selectors.can_see(info.context.actor, integration) else None

    @staticmethod
    def resolve_granted_regions(integration, info):
        return list(integration.granted_regions.order_by("code"))

    @staticmethod
    def resolve_keys(integration, info):
        return list(integration.keys.order_by("-created_at", "-pk"))

    @staticmethod
    def resolve_endpoints(integration, info):
        return list(integration.endpoints.order_by("pk"))

    @staticmethod
    def resolve_audit(integration, info):
        return list(integration.audit.select_related("user")[:100])


class WebhookEventTypeType(graphene.ObjectType):
    class Meta:
        name = "WebhookEventType"

    name = graphene.String(required=True)
    description = graphene.String(required=True)


def _integration_pk(global_id) -> int:
    pk = node_pk(global_id, "Integration")
    if pk is None:
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("No such integration."), field="integrationId")
    return pk


def _endpoint_pk(global_id) -> int:
    pk = node_pk(global_id, "WebhookEndpoint")
    if pk is None:
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("No such webhook endpoint."), field="endpointId")
    return pk


def _region_pk(region: str) -> int:
    found = region_selectors.region_by_slug_or_code(region)
    if found is None:
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("Unknown region."), field="region")
    return found.pk


class IntegrationQueries(graphene.ObjectType):
    integrations = graphene.List(
        graphene.NonNull(IntegrationNode),
        required=True,
        region=graphene.String(required=True),
        description="Region admins: the region's integrations.",
    )
    my_integration = graphene.Field(IntegrationNode, description="Called with an API key: its integration.")
    webhook_event_types = graphene.List(graphene.NonNull(WebhookEventTypeType), required=True)
    webhook_dry_run = GenericScalar(
        endpoint_id=graphene.ID(required=True),
        case_id=graphene.ID(required=True),
        event_type=graphene.String(required=True),
        description="The body (as JSON) an event of this type about this case would send to the endpoint now. "
        "Nothing is sent.",
    )

    @staticmethod
    def resolve_integrations(root, info, region):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None:
            raise query_error(DomainError(IntegrationErrorCode.NOT_FOUND, _("Unknown region."), field="region"))
        if not info.context.actor.administers(found.pk):
            message = _("Only admins of this region may do this.")
            raise query_error(DomainError(IntegrationErrorCode.FORBIDDEN, message, field="region"))
        return list(selectors.region_integrations(info.context.actor, found.pk))

    @staticmethod
    def resolve_my_integration(root, info):
        return selectors.own_integration(info.context.actor)

    @staticmethod
    def resolve_webhook_event_types(root, info):
        return [WebhookEventTypeType(name=name, description=str(text)) for name, text in events.EVENT_TYPES.items()]

    @staticmethod
    def resolve_webhook_dry_run(root, info, endpoint_id, case_id, event_type):
        case_pk = node_pk(case_id, "Case")
        if case_pk is None:
            raise GraphQLError(
                _("This is not an id of this API."), extensions={"code": "BAD_USER_INPUT", "argument": "caseId"}
            )
        try:
            body = webhooks.dry_run(
                actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id), case_id=case_pk, event_type=event_type
            )
        except DomainError as exc:
            raise query_error(exc) from None
        return json.loads(body)


# --- integrations and keys -----------------------------------------------------------------------------------------


class IntegrationPayload:
    Error = IntegrationError
    integration = graphene.Field(IntegrationNode)


class CreateIntegration(IntegrationPayload, DomainMutation):
    """Region admins: a new integration (an agency's API client)."""

    class Arguments:
        region = graphene.String(required=True)
        name = graphene.String(required=True)
        contact_email = graphene.String(required=True, description="Told when its webhooks break.")
        contact_name = graphene.String()
        scopes = graphene.List(graphene.NonNull(ScopeEnum))

    @classmethod
    def perform(cls, info, region, name, contact_email, contact_name=None, scopes=None):
        integration = integrations.create_integration(
            actor=info.context.actor,
            region_id=_region_pk(region),
            name=name,
            contact_email=contact_email,
            contact_name=contact_name or "",
            scopes=[getattr(s, "value", s) for s in scopes or []],
        )
        return cls(integration=integration)


class UpdateIntegration(IntegrationPayload, DomainMutation):
    """Region admins: change what is given (each change is audited)."""

    class Arguments:
        integration_id = graphene.ID(required=True)
        name = graphene.String()
        contact_email = graphene.String()
        contact_name = graphene.String()
        scopes = graphene.List(graphene.NonNull(ScopeEnum))
        active = graphene.Boolean()

    @classmethod
    def perform(cls, info, integration_id, name=None, contact_email=None, contact_name=None, scopes=None, active=None):
        integration = integrations.update_integration(
            actor=info.context.actor,
            integration_id=_integration_pk(integration_id),
            name=name,
            contact_email=contact_email,
            contact_name=contact_name,
            scopes=[getattr(s, "value", s) for s in scopes] if scopes is not None else None,
            active=active,
        )
        return cls(integration=integration)


class GrantIntegrationRegion(IntegrationPayload, DomainMutation):
    """Admins of a region: let another region's integration (a provincial dashboard) read this region, or stop."""

    class Arguments:
        integration_id = graphene.ID(required=True)
        region = graphene.String(required=True)
        granted = graphene.Boolean(default_value=True)

    @classmethod
    def perform(cls, info, integration_id, region, granted=True):
        integration = integrations.grant_region(
            actor=info.context.actor,
            integration_id=_integration_pk(integration_id),
            region_id=_region_pk(region),
            granted=granted,
        )
        return cls(integration=integration)


class IssueApiKey(DomainMutation):
    """Region admins: a new API key. `secret` is shown this once: send it as `Authorization: Bearer <secret>`."""

    class Arguments:
        integration_id = graphene.ID(required=True)
        name = graphene.String()

    Error = IntegrationError
    api_key = graphene.Field(ApiKeyType)
    secret = graphene.String()

    @classmethod
    def perform(cls, info, integration_id, name=None):
        issued = integrations.issue_key(
            actor=info.context.actor, integration_id=_integration_pk(integration_id), name=name or ""
        )
        return cls(api_key=issued.key, secret=issued.secret)


class RevokeApiKey(DomainMutation):
    """Region admins: the key stops working at once."""

    class Arguments:
        key_id = graphene.ID(required=True)

    Error = IntegrationError
    api_key = graphene.Field(ApiKeyType)

    @classmethod
    def perform(cls, info, key_id):
        return cls(api_key=integrations.revoke_key(actor=info.context.actor, key_id=parse_pk(key_id) or 0))


# --- webhook endpoints ---------------------------------------------------------------------------------------------


class WebhookEndpointInput(graphene.InputObjectType):
    url = graphene.String(description="https://… (plain http only for hosts the deployment allow-lists).")
    description = graphene.String()
    event_types = graphene.List(graphene.NonNull(graphene.String), description="See webhookEventTypes; [] for all.")
    agencies = graphene.List(graphene.NonNull(graphene.ID), description="Agency ids: only their cases.")
    areas = graphene.List(graphene.NonNull(graphene.ID), description="Area ids: only cases located there.")
    categories = graphene.List(graphene.NonNull(graphene.ID), description="Complaint category ids.")
    permit_types = graphene.List(graphene.NonNull(graphene.String), description="Permit type codes.")
    document = graphene.String(
        description="A GraphQL subscription selecting `webhookEvent { … }`: each delivery's `data` is its result, "
        "run with the integration's permissions. Empty: the default summary."
    )
    active = graphene.Boolean()


def _endpoint_input(data) -> webhooks.EndpointInput:
    def pks(values, type_name=None):
        if values is None:
            return None
        return [(node_pk(v, type_name) if type_name else parse_pk(v)) or 0 for v in values]

    return webhooks.EndpointInput(
        url=data.get("url"),
        description=data.get("description"),
        event_types=data.get("event_types"),
        agencies=pks(data.get("agencies"), "Agency"),
        areas=pks(data.get("areas"), "Area"),
        categories=pks(data.get("categories")),
        permit_types=data.get("permit_types"),
        document=data.get("document"),
        active=data.get("active"),
    )


class EndpointPayload:
    Error = IntegrationError
    endpoint = graphene.Field(WebhookEndpointNode)


class CreateWebhookEndpoint(EndpointPayload, DomainMutation):
    """A new endpoint. `secret` (whsec_…) is shown this once: verify deliveries with it (docs/webhooks.md)."""

    class Arguments:
        integration_id = graphene.ID(required=True)
        input = WebhookEndpointInput(required=True)

    secret = graphene.String()

    @classmethod
    def perform(cls, info, integration_id, input):
        endpoint, secret = webhooks.create_endpoint(
            actor=info.context.actor, integration_id=_integration_pk(integration_id), values=_endpoint_input(input)
        )
        return cls(endpoint=endpoint, secret=secret)


class UpdateWebhookEndpoint(EndpointPayload, DomainMutation):
    """Change what is given. Switching an endpoint on again sends what waited, in order."""

    class Arguments:
        endpoint_id = graphene.ID(required=True)
        input = WebhookEndpointInput(required=True)

    @classmethod
    def perform(cls, info, endpoint_id, input):
        endpoint = webhooks.update_endpoint(
            actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id), values=_endpoint_input(input)
        )
        return cls(endpoint=endpoint)


class DeleteWebhookEndpoint(DomainMutation):
    class Arguments:
        endpoint_id = graphene.ID(required=True)

    Error = IntegrationError
    ok = graphene.Boolean()

    @classmethod
    def perform(cls, info, endpoint_id):
        webhooks.delete_endpoint(actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id))
        return cls(ok=True)


class RotateWebhookSecret(EndpointPayload, DomainMutation):
    """A new secret (shown this once); deliveries carry signatures with both for the grace period."""

    class Arguments:
        endpoint_id = graphene.ID(required=True)

    secret = graphene.String()

    @classmethod
    def perform(cls, info, endpoint_id):
        endpoint, secret = webhooks.rotate_secret(actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id))
        return cls(endpoint=endpoint, secret=secret)


class PingWebhookEndpoint(DomainMutation):
    """Send a signed `webhook.ping` now and tell how the endpoint answered."""

    class Arguments:
        endpoint_id = graphene.ID(required=True)

    Error = IntegrationError
    attempt = graphene.Field(WebhookAttemptType)

    @classmethod
    def perform(cls, info, endpoint_id):
        return cls(attempt=webhooks.ping(actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id)))


class RedeliverWebhook(DomainMutation):
    """Send one delivery again (the same `webhook-id`), at once."""

    class Arguments:
        delivery_id = graphene.ID(required=True)

    Error = IntegrationError
    delivery = graphene.Field(WebhookDeliveryType)

    @classmethod
    def perform(cls, info, delivery_id):
        message = webhooks.redeliver(actor=info.context.actor, message_seq=parse_pk(delivery_id) or 0)
        return cls(delivery=WebhookDeliveryType.from_message(message))


class RedeliverFailedWebhooks(DomainMutation):
    """Send again, at once, every failed delivery of the endpoint made since a time."""

    class Arguments:
        endpoint_id = graphene.ID(required=True)
        since = graphene.DateTime(required=True)

    Error = IntegrationError
    count = graphene.Int()

    @classmethod
    def perform(cls, info, endpoint_id, since):
        count = webhooks.redeliver_failed(actor=info.context.actor, endpoint_id=_endpoint_pk(endpoint_id), since=since)
        return cls(count=count)


class IntegrationMutations(graphene.ObjectType):
    create_integration = CreateIntegration.Field()
    update_integration = UpdateIntegration.Field()
    grant_integration_region = GrantIntegrationRegion.Field()
    issue_api_key = IssueApiKey.Field()
    revoke_api_key = RevokeApiKey.Field()
    create_webhook_endpoint = CreateWebhookEndpoint.Field()
    update_webhook_endpoint = UpdateWebhookEndpoint.Field()
    delete_webhook_endpoint = DeleteWebhookEndpoint.Field()
    rotate_webhook_secret = RotateWebhookSecret.Field()
    ping_webhook_endpoint = PingWebhookEndpoint.Field()
    redeliver_webhook = RedeliverWebhook.Field()
    redeliver_failed_webhooks = RedeliverFailedWebhooks.Field()
