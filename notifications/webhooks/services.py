"""Managing webhook endpoints: by the admins of the integration's region, or by the integration itself with the
`webhooks:manage` scope. Redelivery, a test ping and a dry run that shows what an event would send."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from graphql_relay import to_global_id

from backend.accounts.actor import Actor, Scope
from backend.cases.models import Case, CaseEvent
from backend.complaints import selectors as complaint_selectors
from backend.complaints.models import ComplaintCategory
from backend.errors import DomainError, DomainErrors
from backend.integrations.errors import IntegrationErrorCode
from backend.integrations.models import Integration
from backend.integrations.services import audit
from backend.permits.models import PermitType
from backend.regions.models import Agency, Area
from notifications.webhooks import delivery, events, net
from notifications.webhooks.models import Attempt, Endpoint, Message, MessageStatus

E = IntegrationErrorCode


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def may_manage(actor: Actor, integration: Integration) -> bool:
    return actor.administers(integration.region_id) or (
        actor.grant is not None and actor.grant.integration_id == integration.pk and actor.holds(Scope.MANAGE_WEBHOOKS)
    )


def _lacks_the_scope(actor: Actor, integration: Integration | None, field: str) -> None:
    """An integration's own key without webhooks:manage is told which scope it lacks (FORBIDDEN), on every
    endpoint action alike; anyone else's look-ups of what is not theirs are NOT_FOUND."""
    itself = integration is not None and actor.grant is not None and actor.grant.integration_id == integration.pk
    if itself and not actor.holds(Scope.MANAGE_WEBHOOKS):
        message = _("This needs the %(scope)s scope; ask the region's admins.") % {"scope": Scope.MANAGE_WEBHOOKS}
        raise DomainError(E.FORBIDDEN, message, field=field)


def _integration(actor: Actor, integration_id: int) -> Integration:
    integration = Integration.objects.filter(pk=integration_id).first()
    _lacks_the_scope(actor, integration, "integrationId")
    if integration is None or not may_manage(actor, integration):
        raise DomainError(E.NOT_FOUND, _("No such integration."), field="integrationId")
    return integration


def managed_endpoint(actor: Actor, endpoint_id: int) -> Endpoint:
    endpoint = Endpoint.objects.select_related("integration").filter(pk=endpoint_id).first()
    _lacks_the_scope(actor, endpoint.integration if endpoint else None, "endpointId")
    if endpoint is None or not may_manage(actor, endpoint.integration):
        raise DomainError(E.NOT_FOUND, _("No such webhook endpoint."), field="endpointId")
    return endpoint


@dataclass
class EndpointInput:
    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = None
    agencies: list[int] | None = None
    categories: list[int] | None = None
    permit_types: list[str] | None = None
    areas: list[int] | None = None
    document: str | None = None
    active: bool | None = None


def _check(integration: Integration, values: EndpointInput) -> dict:
    """The fields given, checked together: every problem at once."""
    errors, clean = [], {}
    if values.url is not None:
        url = values.url.strip()
        try:
            net.target(url)  # resolved now, and again at every send
        except net.Refused as refused:
            errors.append(
                DomainError(
                    E.UNSAFE_URL, _("This URL cannot be used: %(reason)s.") % {"reason": refused.reason}, field="url"
                )
            )
        if len(url) > 500:
            errors.append(DomainError(E.INVALID, _("Write up to %(limit)d characters.") % {"limit": 500}, field="url"))
        clean["url"] = url
    if values.description is not None:
        if len(values.description) > 200:
            errors.append(
                DomainError(E.INVALID, _("Write up to %(limit)d characters.") % {"limit": 200}, field="description")
            )
        clean["description"] = values.description.strip()
    if values.event_types is not None:
        unknown = sorted(set(values.event_types) - events.EVENT_TYPES.keys())
        if unknown:
            message = _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}
            errors.append(DomainError(E.INVALID, message, field="eventTypes"))
        clean["event_types"] = sorted(set(values.event_types))
    region_ids = integration.region_ids()
    for field, model, lookup, api_name in (
        ("agencies", Agency, "pk", "agencies"),
        ("areas", Area, "pk", "areas"),
        ("categories", ComplaintCategory, "pk", "categories"),
        ("permit_types", PermitType, "code", "permitTypes"),
    ):
        given = getattr(values, field)
        if given is None:
            continue
        found = set(
            model.objects.filter(region_id__in=region_ids, **{f"{lookup}__in": given}).values_list(lookup, flat=True)
        )
        if set(given) - found:
            errors.append(DomainError(E.INVALID, _("Choose among the integration's regions' own."), field=api_name))
        clean[field] = sorted(set(given))
    if values.document is not None:
        text = values.document.strip()
        problems = delivery.documents().check(text) if text else []
        if problems:
            message = _("This subscription document cannot be used: %(problems)s") % {"problems": " ".join(problems)}
            errors.append(DomainError(E.INVALID_DOCUMENT, message, field="document"))
        clean["document"] = text
    if values.active is not None:
        clean["active"] = bool(values.active)
    if errors:
        raise DomainErrors(errors)
    return clean


def create_endpoint(*, actor: Actor, integration_id: int, values: EndpointInput) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret (shown once)."""
    integration = _integration(actor, integration_id)
    if values.url is None:
        raise DomainError(E.INVALID, _("Give the endpoint's URL."), field="url")
    clean = _check(integration, values)
    secret = new_secret()
    with transaction.atomic():
        endpoint = Endpoint.objects.create(integration=integration, secret=secret, **clean)
        audit(integration, actor, "endpoint_created", endpoint=endpoint.pk, url=endpoint.url)
    return endpoint, secret


def update_endpoint(*, actor: Actor, endpoint_id: int, values: EndpointInput) -> Endpoint:
    """Change what is given. Switching an endpoint on again lets its waiting messages go, in order."""
    endpoint = managed_endpoint(actor, endpoint_id)
    clean = _check(endpoint.integration, values)
    changed = {field: value for field, value in clean.items() if getattr(endpoint, field) != value}
    if not changed:
        return endpoint
    with transaction.atomic():
        before = {field: getattr(endpoint, field) for field in changed}
        for field, value in changed.items():
            setattr(endpoint, field, value)
        if changed.get("active"):
            endpoint.disabled_reason, endpoint.failing_since = "", None
        endpoint.save()
        audit(endpoint.integration, actor, "endpoint_changed", endpoint=endpoint.pk, before=before, after=changed)
    if changed.get("active"):
        delivery.dispatch()
    return endpoint


def delete_endpoint(*, actor: Actor, endpoint_id: int) -> None:
    endpoint = managed_endpoint(actor, endpoint_id)
    with transaction.atomic():
        audit(endpoint.integration, actor, "endpoint_deleted", endpoint=endpoint.pk, url=endpoint.url)
        endpoint.delete()


def rotate_secret(*, actor: Actor, endpoint_id: int) -> tuple[Endpoint, str]:
    """A new secret; for `WEBHOOK_SECRET_GRACE_HOURS` every message is signed with the old one too."""
    endpoint = managed_endpoint(actor, endpoint_id)
    secret = new_secret()
    with transaction.atomic():
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit(endpoint.integration, actor, "secret_rotated", endpoint=endpoint.pk)
    return endpoint, secret


def ping(*, actor: Actor, endpoint_id: int) -> Attempt:
    """Send a `webhook.ping` now, signed like any message, and return the attempt (logged with the others)."""
    endpoint = managed_endpoint(actor, endpoint_id)
    now = timezone.now()
    data = {"endpoint": to_global_id("WebhookEndpoint", endpoint.pk), "integration": endpoint.integration.name}
    body = delivery.dump("webhook.ping", now, data)
    message = Message.objects.create(
        uid=uuid.uuid4(), endpoint=endpoint, event_type="webhook.ping", body=body, status=MessageStatus.SENDING
    )
    log, _response = delivery.attempt(message, manual=True)
    log.save()
    delivered = log.status_code is not None and 200 <= log.status_code < 300
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.DELIVERED if delivered else MessageStatus.FAILED,
        attempts=1,
        delivered_at=now if delivered else None,
    )
    return log


def dry_run(*, actor: Actor, endpoint_id: int, case_id: int, event_type: str) -> str:
    """The body an event of this type about this case would send to the endpoint now (nothing is sent); refused
    when the endpoint would not receive it."""
    endpoint = managed_endpoint(actor, endpoint_id)
    if event_type not in events.EVENT_TYPES:
        raise DomainError(E.INVALID, _("Unknown event type."), field="eventType")
    case = Case.objects.filter(pk=case_id, region_id__in=endpoint.integration.region_ids()).first()
    if case is None:
        raise DomainError(E.NOT_FOUND, _("No such case."), field="caseId")
    if event_type not in events.types_of_kind(case.kind):
        raise DomainError(E.INVALID, _("No event of this type happens to this kind of case."), field="eventType")
    grant = delivery.grant_of(endpoint.integration, {})
    if not complaint_selectors.can_view(Actor.for_integration(grant), case) or not delivery.matches(endpoint, case):
        raise DomainError(E.FORBIDDEN, _("This endpoint receives nothing about this case."), field="caseId")
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    return delivery.render(event_type, case, event, endpoint=endpoint, grant=grant)


def redeliver(*, actor: Actor, message_seq: int) -> Message:
    """Send one message again (same `webhook-id`), now: a manual redelivery goes at once, even if later messages of
    its case went before it."""
    message = Message.objects.select_related("endpoint__integration").filter(seq=message_seq).first()
    _lacks_the_scope(actor, message.endpoint.integration if message else None, "deliveryId")
    if message is None or not may_manage(actor, message.endpoint.integration):
        raise DomainError(E.NOT_FOUND, _("No such delivery."), field="deliveryId")
    if message.purged_at is not None:
        raise DomainError(E.INVALID_STATE, _("This delivery's payload has been purged."))
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.PENDING, next_attempt_at=timezone.now(), attempts=0, ready=True
    )
    delivery.dispatch()
    message.refresh_from_db()
    return message


def redeliver_failed(*, actor: Actor, endpoint_id: int, since: datetime) -> int:
    """Every failed message of the endpoint created since `since`, again, at once. Returns how many."""
    endpoint = managed_endpoint(actor, endpoint_id)
    count = Message.objects.filter(
        endpoint=endpoint, status=MessageStatus.FAILED, created_at__gte=since, purged_at__isnull=True
    ).update(status=MessageStatus.PENDING, next_attempt_at=timezone.now(), attempts=0, ready=True)
    audit(endpoint.integration, actor, "redelivered", endpoint=endpoint.pk, since=since.isoformat(), count=count)
    if count:
        delivery.sweep()
    return count
