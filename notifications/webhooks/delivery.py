"""Webhook delivery, at least once, from the outbox every change writes (so never for a change rolled back).

- Fan-out: the outbox row of the region's integrations (Audience.REGION) becomes one message per endpoint and event
  type that wants it, in the transaction that marks the row delivered (notifications.delivery). An endpoint receives
  only what its integration may read through the API with `cases:read` (complaints.selectors.can_view with the
  integration's grant: confidential complaints only with `cases:read_confidential`), matching its event types and
  filters. A disabled endpoint's messages are made too and wait: switched on again, it gets them in order.
- Order: a message goes out only when no earlier message of the same case for the same endpoint is pending and every
  earlier event of the case has been fanned out, so a later status never overtakes an earlier one. Different cases
  and endpoints go in parallel; an endpoint has at most `WEBHOOK_ENDPOINT_CONCURRENCY` messages in flight, sent by
  tasks of that endpoint alone, so a slow or dead one holds its own worker slots, never another's messages.
- Each attempt is signed per the Standard Webhooks spec (`webhook-id` the same on every retry), posted through the
  SSRF guard (net.py) with a 15 s deadline and no redirects, and logged (status, time, headers, first KB of the body).
  2xx delivers; 410 disables the endpoint; 429, 5xx, timeouts and connection errors retry on the spec's schedule with
  jitter, at least what `Retry-After` asks; other answers fail the message. An endpoint without a success for
  `WEBHOOK_DISABLE_AFTER_HOURS` is disabled and its contact and the region's admins are told.
- Messages are claimed with a lease (like the outbox), so a worker that dies leaves them to the sweep.
`now` parameters are the clock retries are scheduled on (tests set it); signatures carry the real time."""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module

import urllib3
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from backend import breaker
from backend.accounts.actor import Actor, Grant, Scope
from backend.accounts.models import Membership, Role
from backend.cases.models import Audience, Case, OutboxMessage, OutboxStatus
from backend.complaints import selectors as complaint_selectors
from backend.integrations.models import Integration
from notifications.webhooks import events, net
from notifications.webhooks.models import Attempt, Endpoint, Message, MessageStatus

logger = logging.getLogger("simpul.webhooks")

#: Seconds before each retry (the Standard Webhooks schedule): attempt 2 comes 5 s after attempt 1, and so on.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
PAYLOAD_MAX = 20 * 1024
LEASE = timedelta(seconds=60)
BATCH = 25  # messages a task sends, in parallel
SEND_THREADS = 16
OPEN = (MessageStatus.PENDING, MessageStatus.SENDING)


# --- fan-out -------------------------------------------------------------------------------------------------------


def grant_of(integration: Integration, cache: dict) -> Grant:
    if integration.pk not in cache:
        cache[integration.pk] = integration.grant()
    return cache[integration.pk]


def matches(endpoint: Endpoint, case) -> bool:
    """The endpoint's filters (agency, area, complaint category, permit type) let the case through."""
    if endpoint.agencies and case.agency_id not in endpoint.agencies:
        return False
    if endpoint.areas and case.area_id not in endpoint.areas:
        return False
    if endpoint.categories and (
        case.kind != "complaint"
        or not {case.complaint.category_id, case.complaint.category.parent_id} & set(endpoint.categories)
    ):  # a group names its categories
        return False
    return not endpoint.permit_types or (
        case.kind == "permit" and case.permit.type_version.permit_type.code in endpoint.permit_types
    )


@cache
def documents():
    """The API's module that runs subscription documents (settings.WEBHOOK_DOCUMENTS), imported on first use."""
    return import_module(settings.WEBHOOK_DOCUMENTS)


def render(event_type: str, case, event, *, endpoint: Endpoint | None = None, grant: Grant | None = None) -> str:
    """The body of a message: `{type, timestamp, data}` with the versioned summary, or what the endpoint's
    subscription document selects (run with the integration's permissions); at most 20 KB."""
    if endpoint is not None and endpoint.document:
        result = documents().render(endpoint.document, grant, case, event, event_type)
        body = dump(event_type, event.created_at, result["data"], errors=result.get("errors"))
        if len(body.encode()) > PAYLOAD_MAX:
            error = {"message": f"The document's result is over {PAYLOAD_MAX // 1024} KB: select fewer fields."}
            body = dump(event_type, event.created_at, None, errors=[error])
        return body
    data = events.summary(case, event)
    body = dump(event_type, event.created_at, data)
    if len(body.encode()) > PAYLOAD_MAX and "complaint" in data:
        data["complaint"]["description"] = ""
        data["truncated"] = True
        room = PAYLOAD_MAX - len(dump(event_type, event.created_at, data).encode()) - 16
        data["complaint"]["description"] = case.complaint.description.encode()[: max(0, room)].decode("utf-8", "ignore")
        body = dump(event_type, event.created_at, data)
    return body


def dump(event_type: str, at: datetime, data: dict | None, *, errors: list | None = None) -> str:
    body = {"type": event_type, "timestamp": at.isoformat(), "data": data}
    if errors:
        body["errors"] = errors
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def fan_out(rows: list[OutboxMessage]) -> int:
    """Messages for the REGION rows among `rows` (in the caller's transaction); returns how many were made.
    Idempotent: a row fanned out twice makes no second message."""
    rows = [row for row in rows if row.audience == Audience.REGION]
    if not rows:
        return 0
    region_ids = {row.audience_id for row in rows}
    endpoints = list(
        Endpoint.objects.filter(integration__active=True)
        .filter(Q(integration__region_id__in=region_ids) | Q(integration__granted_regions__in=region_ids))
        .distinct()
        .select_related("integration")
        .order_by("pk")
    )
    if not endpoints:
        return 0
    grants: dict[int, Grant] = {}
    new = []
    cases = {
        case.pk: case
        for case in Case.objects.filter(pk__in={row.case_id for row in rows}).select_related(
            "region", "agency", "area", "complaint__category", "permit__type_version__permit_type"
        )
    }
    for row in rows:
        case, event = cases[row.case_id], row.event
        types = events.types_of(case, event)
        if not types:
            continue
        summaries: dict[str, str] = {}  # the default body of each type, made once for every endpoint that takes it
        for endpoint in endpoints:
            grant = grant_of(endpoint.integration, grants)
            if Scope.READ_CASES not in grant.scopes or case.region_id not in grant.region_ids:
                continue
            if not complaint_selectors.can_view(Actor.for_integration(grant), case) or not matches(endpoint, case):
                continue
            for event_type in types:
                if endpoint.event_types and event_type not in endpoint.event_types:
                    continue
                if endpoint.document:
                    body = render(event_type, case, event, endpoint=endpoint, grant=grant)
                else:
                    if event_type not in summaries:
                        summaries[event_type] = render(event_type, case, event)
                    body = summaries[event_type]
                new.append(
                    Message(
                        uid=uuid.uuid4(),
                        endpoint=endpoint,
                        case=case,
                        outbox=row,
                        event_seq=event.seq,
                        event_type=event_type,
                        body=body,
                    )
                )
    Message.objects.bulk_create(new, ignore_conflicts=True)
    promote({row.case_id for row in rows}, fanning_out=[row.pk for row in rows])
    return len(new)


# --- claiming and sending ------------------------------------------------------------------------------------------


def promote(case_ids, *, fanning_out=()) -> int:
    """Mark the messages of these cases that may go now: for each endpoint, a case's earliest open message, once
    every earlier event of the case has been fanned out (`fanning_out`: the outbox rows this transaction fans out,
    still pending in it). Called after a fan-out and after messages finish, so that claiming reads an index instead
    of working the order out over every pending message."""
    earlier = Message.objects.filter(endpoint=OuterRef("endpoint"), case=OuterRef("case"), status__in=OPEN).filter(
        Q(event_seq__lt=OuterRef("event_seq")) | Q(event_seq=OuterRef("event_seq"), seq__lt=OuterRef("seq"))
    )
    not_fanned_out = OutboxMessage.objects.filter(
        case=OuterRef("case"),
        audience=Audience.REGION,
        status=OutboxStatus.PENDING,
        event__seq__lt=OuterRef("event_seq"),
    ).exclude(pk__in=list(fanning_out))
    return (
        Message.objects.filter(case_id__in=list(case_ids), status__in=OPEN, ready=False)
        .exclude(Exists(earlier))
        .exclude(Exists(not_fanned_out))
        .update(ready=True)
    )


def claim(*, now: datetime | None = None, limit: int = 100) -> list[tuple[int, int]]:
    """Take due messages that may go (`ready`) for sending, endpoint by endpoint within each one's concurrency, the
    endpoint waiting longest first: they are leased. One small indexed query per endpoint with work and room, so a
    backlog at one endpoint costs the others nothing."""
    now = now or timezone.now()
    cap = settings.WEBHOOK_ENDPOINT_CONCURRENCY
    due = Message.objects.filter(ready=True, status__in=OPEN, next_attempt_at__lte=now)
    oldest = due.filter(endpoint=OuterRef("pk")).order_by("next_attempt_at", "seq").values("next_attempt_at")[:1]
    with transaction.atomic():
        waiting = list(
            Endpoint.objects.filter(active=True)
            .annotate(oldest=Subquery(oldest))
            .filter(oldest__isnull=False)
            .order_by("oldest", "pk")
            .values_list("pk", flat=True)
        )
        if not waiting:
            return []
        busy = dict(
            Message.objects.filter(
                endpoint_id__in=waiting, ready=True, status=MessageStatus.SENDING, next_attempt_at__gt=now
            )
            .values_list("endpoint_id")
            .annotate(n=Count("seq"))
        )
        taken: list[tuple[int, int]] = []
        for endpoint_id in waiting:
            room = min(cap - busy.get(endpoint_id, 0), limit - len(taken))
            if room <= 0:
                continue
            seqs = (
                due.filter(endpoint_id=endpoint_id)
                .order_by("next_attempt_at", "seq")
                .select_for_update(skip_locked=True)
                .values_list("seq", flat=True)[:room]
            )
            taken += [(seq, endpoint_id) for seq in seqs]
            if len(taken) >= limit:
                break
        Message.objects.filter(seq__in=[seq for seq, _endpoint in taken]).update(
            status=MessageStatus.SENDING, next_attempt_at=now + LEASE
        )
    return taken


def signature(endpoint: Endpoint, webhook_id: str, at: datetime, body: str) -> str:
    """`v1,<base64>` with the current secret, and with the previous one beside it during a rotation's grace."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at:
        secrets.append(endpoint.previous_secret)
    return " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets)


def headers(endpoint: Endpoint, message: Message, at: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Simpul-Webhooks/1",
        "webhook-id": message.webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(endpoint, message.webhook_id, at, message.body),
    }


def _retry_after(response: net.Response | None) -> float:
    value = (response.headers.get("Retry-After") or response.headers.get("retry-after") or "") if response else ""
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def attempt(message: Message, *, manual: bool = False) -> tuple[Attempt, net.Response | None]:
    """One POST of the message to its endpoint; the attempt's log row, not yet saved."""
    endpoint = message.endpoint
    sent_at = timezone.now()
    response, seconds, error = None, 0.0, ""
    try:
        response, seconds = net.post(
            endpoint.url,
            message.body.encode(),
            headers(endpoint, message, sent_at),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except net.Refused as refused:
        error = f"refused: {refused.reason}"
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    log = Attempt(
        message=message,
        at=sent_at,
        manual=manual,
        status_code=response.status if response else None,
        duration_ms=round(seconds * 1000),
        response_headers=response.headers if response else {},
        response_body=response.body if response else "",
        error=error[:300],
    )
    return log, response


def _outcome(message: Message, log: Attempt, response: net.Response | None, now: datetime) -> str | None:
    """Set the message's status after an attempt; returns what it says of the endpoint: "ok", GONE, "failed"."""
    message.attempts += 1
    status = log.status_code
    if status is not None and 200 <= status < 300:
        message.status, message.delivered_at = MessageStatus.DELIVERED, now
        return "ok"
    if status == 410:
        message.status = MessageStatus.FAILED
        return GONE
    if status is None or status == 429 or status >= 500:
        if message.attempts > len(SCHEDULE):
            message.status = MessageStatus.FAILED
        else:
            delay = SCHEDULE[message.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311 - jitter
            delay = min(max(delay, _retry_after(response)), SCHEDULE[-1])
            message.status, message.next_attempt_at = MessageStatus.PENDING, now + timedelta(seconds=delay)
        return "failed"
    message.status = MessageStatus.FAILED  # another 4xx (or a redirect, not followed): retrying would not help
    return "failed"


def send(seqs: list[int], *, now: datetime | None = None, manual: bool = False) -> dict[int, str]:
    """Attempt claimed messages (in parallel: they are of different endpoints or cases), record every attempt and
    outcome in a few statements, mark their endpoints' health, then let what waited behind them go. Returns each
    message's status."""
    messages = [
        m
        for m in Message.objects.select_related("endpoint__integration").filter(seq__in=seqs).order_by("seq")
        if manual or m.status != MessageStatus.DELIVERED
    ]
    if not messages:
        return {}
    if len(messages) == 1:
        attempts = [attempt(messages[0], manual=manual)]
    else:
        with ThreadPoolExecutor(max_workers=min(len(messages), SEND_THREADS)) as pool:
            attempts = list(pool.map(lambda m: attempt(m, manual=manual), messages))
    now = now or timezone.now()
    health: dict[int, tuple[Endpoint, set[str]]] = {}
    for message, (log, response) in zip(messages, attempts, strict=True):
        verdict = _outcome(message, log, response, now)
        health.setdefault(message.endpoint_id, (message.endpoint, set()))[1].add(verdict)
    Attempt.objects.bulk_create([log for log, _response in attempts])
    delivered = [m.seq for m in messages if m.status == MessageStatus.DELIVERED]
    if delivered:  # the usual outcome, in one statement
        Message.objects.filter(seq__in=delivered).update(
            status=MessageStatus.DELIVERED, attempts=F("attempts") + 1, delivered_at=now
        )
    for message in messages:
        if message.status != MessageStatus.DELIVERED:
            message.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    for endpoint, verdicts in health.values():
        if GONE in verdicts:
            disable(endpoint, GONE)
        elif "failed" in verdicts:
            _failing(endpoint, now)
        elif endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
    finished = {m.case_id for m in messages if m.case_id is not None and m.status != MessageStatus.PENDING}
    if finished:
        promote(finished)
    dispatch(now=now)  # what waited behind these, and what this endpoint's concurrency held back
    return {m.seq: m.status for m in messages}


def _failing(endpoint: Endpoint, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "active"])
    limit = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if endpoint.active and endpoint.failing_since is not None and now - endpoint.failing_since >= limit:
        disable(endpoint, FAILING)


GONE, FAILING = "gone", "failing"


def _reason(why: str) -> str:
    if why == GONE:
        return _("The endpoint answered 410 Gone.")
    return _("No delivery succeeded for %(hours)d hours.") % {"hours": settings.WEBHOOK_DISABLE_AFTER_HOURS}


def disable(endpoint: Endpoint, why: str) -> None:
    """Switch the endpoint off (`why`: GONE or FAILING) and tell its integration's contact and the region's admins,
    in the deployment's language. Its pending messages wait: they go out, in order, once it is switched on again."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = _reason(why)
        if not Endpoint.objects.filter(pk=endpoint.pk, active=True).update(active=False, disabled_reason=reason[:200]):
            return
        integration = endpoint.integration
        admins = Membership.objects.filter(region_id=integration.region_id, role=Role.REGION_ADMIN)
        emails = admins.exclude(user__email="").values_list("user__email", flat=True)
        recipients = sorted({integration.contact_email, *emails} - {""})
        subject = _("Simpul: webhook endpoint disabled (%(name)s)") % {"name": integration.name}
        text = _(
            "The webhook endpoint %(url)s of %(name)s was disabled: %(reason)s Switch it on again once it works."
        ) % {"url": endpoint.url, "name": integration.name, "reason": reason}
    logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, why)
    try:
        send_mail(subject, text, None, recipients)
    except Exception:  # the endpoint stays disabled; the admin shows why
        logger.exception("Could not tell %s that endpoint %s was disabled", recipients, endpoint.pk)


def dispatch(*, now: datetime | None = None, limit: int = 200) -> int:
    """Claim what is due and hand it to workers, BATCH messages a task. Returns how many."""
    claimed = claim(now=now, limit=limit)
    by_endpoint: dict[int, list[int]] = defaultdict(list)
    for seq, endpoint_id in claimed:
        by_endpoint[endpoint_id].append(seq)
    for seqs in by_endpoint.values():  # a task per endpoint: a slow one never holds another's messages back
        for start in range(0, len(seqs), BATCH):
            enqueue(seqs[start : start + BATCH], now=now)
    return len(claimed)


def enqueue(seqs: list[int], *, now: datetime | None = None) -> None:
    """Hand claimed messages to a worker (`webhooks.send`); with eager tasks (the embedded default, tests) send them
    here, on the clock they were claimed with. Messages no worker got come due again when their lease runs out."""
    from kombu.exceptions import OperationalError

    from backend.celery import app as celery_app  # loaded by the first message, not by every web process

    if celery_app.conf.task_always_eager:
        send(seqs, now=now)
        return
    if not breaker.BROKER.available():
        return
    try:
        celery_app.send_task("webhooks.send", args=[seqs], retry=False)
    except OperationalError as exc:
        breaker.BROKER.failed(exc)
    else:
        breaker.BROKER.succeeded()


def sweep(*, now: datetime | None = None) -> int:
    """Everything due: retries whose time came, messages whose lease ran out, what no worker got; and endpoints
    failing for longer than allowed are disabled."""
    now = now or timezone.now()
    limit = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    stale = Endpoint.objects.filter(active=True, failing_since__lte=now - limit).select_related("integration")
    for endpoint in stale:
        disable(
            endpoint, _("No delivery succeeded for %(hours)d hours.") % {"hours": settings.WEBHOOK_DISABLE_AFTER_HOURS}
        )
    total = 0
    while batch := dispatch(now=now):
        total += batch
    return total


def purge(*, now: datetime | None = None) -> int:
    """Empty the bodies of messages delivered longer ago than `WEBHOOK_RETENTION_DAYS` (their log stays)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    return Message.objects.filter(
        status=MessageStatus.DELIVERED, delivered_at__lt=cutoff, purged_at__isnull=True
    ).update(body="", purged_at=now)
