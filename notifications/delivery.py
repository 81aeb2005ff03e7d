"""Draining the outbox: every row the case core wrote (backend.cases.outbox) goes to the open apps (channel-layer
groups, read by the GraphQL subscriptions) and, for people, to their phones (FCM), at least once.

- On PostgreSQL (`OUTBOX_RELAY`, the production setup) the core's NOTIFY names the rows at COMMIT (never for a
  rolled-back change). The relay (`notifications.relay`, a thread of every Celery worker listening on that channel)
  delivers them: live messages to their channel-layer groups at once, pushes through a worker task. The web process
  that made the change does nothing more after COMMIT: it neither loads the channel layer nor Celery to hand
  notifications on.
- Without the relay (the embedded default on SQLite), the core calls `notifications.tasks.hand_off` after COMMIT in
  the committing process: it sends the live messages to their groups, then asks a worker (with eager tasks: this
  process) for the rest.
- Either way, if the hand-off fails (no relay listening, Redis down), the rows simply stay pending: the periodic
  sweep (`sweep()`, Celery beat) finds every row that is due and sends it again, live included, and a relay that
  (re)connects starts by delivering whatever is due. A lost notification, a dead worker or an unreachable Redis
  delays a notification and never loses it.
- A worker claims rows with a lease (attempts + 1, next attempt pushed `OUTBOX_LEASE_SECONDS` ahead) in a short
  transaction with SKIP LOCKED, then delivers outside any transaction. A worker that dies mid-way leaves its rows
  to come due again when the lease runs out. Two relays hearing the same notification claim each row once.
- A failure reschedules the row with bounded exponential backoff; after `OUTBOX_MAX_ATTEMPTS` it is marked failed
  with its last error, for an operator to look at.
- Pushes are their own rows (`PushDelivery`, one per notification and device), so that a device already reached is
  never sent the notification again when another device's push is retried. The one duplicate this allows: a push
  FCM accepted just before its worker died is sent again. Every payload carries the notification id
  (`notificationId`) so that apps drop what they have already shown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from graphql_relay import to_global_id

from backend import breaker
from backend.accounts.models import Device
from backend.cases.models import Audience, OutboxMessage, OutboxStatus
from notifications import events
from notifications.models import NotificationPreference, PushDelivery, PushStatus
from notifications.push import FCM_BATCH, PushMessage, get_push_backend
from notifications.webhooks import delivery as webhooks

logger = logging.getLogger("simpul.notifications")

NOTIFY = "simpul.notify"  # the channel-layer message type; consumers handle it as `simpul_notify`


def group_name(audience: str, audience_id) -> str:
    """The channel-layer group of an audience: `user.12`, `agency.3`, `case.77`, `session.<uuid>`."""
    return f"{audience}.{audience_id}"


def notification_id(event_id: int) -> str:
    """The id every subscription and push carries for one change: its timeline event's. An app drops an id it has
    handled (delivery is at least once) and passes the last one it saw to resume after a reconnect."""
    return str(event_id)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: doubling from OUTBOX_RETRY_BASE_SECONDS, capped, with 20 % jitter."""
    seconds = min(settings.OUTBOX_RETRY_MAX_SECONDS, settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


class _LayerLoop:
    """An event loop thread of this process for channel-layer sends from synchronous code. `async_to_sync` would
    start a loop, and channels-redis a Redis connection, for every call (about 4 ms); this loop keeps one pool.
    Created on first use in each process (after a fork, too)."""

    def __init__(self):
        self.pid, self.loop = None, None
        self.lock = threading.Lock()

    def run(self, coroutine, timeout: float):
        with self.lock:
            if self.pid != os.getpid():
                self.loop = asyncio.new_event_loop()
                threading.Thread(target=self.loop.run_forever, name="channel-layer", daemon=True).start()
                self.pid = os.getpid()
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


_layer_loop = _LayerLoop()


def publish(messages: list[dict]) -> bool:
    """Send live messages to their groups; False when the channel layer failed or is known to be away
    (breaker.CHANNEL_LAYER): the sweep sends them again, and subscribers that reconnect get them by replay."""
    layer = get_channel_layer()
    if layer is None:
        return True

    async def send_all():
        for message in messages:
            await layer.group_send(message["group"], message)

    if isinstance(layer, InMemoryChannelLayer):  # one process (the embedded default): its own event loop
        async_to_sync(send_all)()
        return True
    if not breaker.CHANNEL_LAYER.available():
        return False
    try:
        _layer_loop.run(send_all(), timeout=5)
    except Exception as exc:  # Redis unreachable or too slow: the worker (or the sweep) tries again
        breaker.CHANNEL_LAYER.failed(exc)
        return False
    breaker.CHANNEL_LAYER.succeeded()
    return True


# --- claiming ------------------------------------------------------------------------------------------------------


def _claim(queryset: QuerySet, limit: int, now: datetime) -> list:
    """Take up to `limit` due rows for this worker: lock them (skipping rows another worker holds), count the
    attempt and move their next attempt a lease ahead, then commit. Returns their primary keys."""
    with transaction.atomic():
        due = queryset.filter(next_attempt_at__lte=now).order_by("next_attempt_at")
        pks = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if pks:
            queryset.model.objects.filter(pk__in=pks).update(
                attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
            )
    return pks


def _retry_or_fail(row, error: str, now: datetime, *, after: float | None = None) -> None:
    row.last_error = error[:2000]
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        row.status = OutboxStatus.FAILED if isinstance(row, OutboxMessage) else PushStatus.FAILED
        logger.error("Gave up on %s after %s attempts: %s", row, row.attempts, error)
    else:
        delay = backoff(row.attempts)
        if after is not None:
            delay = max(delay, timedelta(seconds=min(after, settings.OUTBOX_RETRY_MAX_SECONDS)))
        row.next_attempt_at = now + delay
    row.save(update_fields=["status", "last_error", "next_attempt_at"])


# --- the outbox ----------------------------------------------------------------------------------------------------


@dataclass
class Delivered:
    claimed: int = 0
    messages: int = 0
    pushes_queued: list[int] = field(default_factory=list)


LIMIT = 200  # outbox rows a delivery claims


def deliver(ids: Iterable[str] | None = None, *, live_sent: bool = False, limit: int = LIMIT) -> Delivered:
    """Deliver due pending rows (those named, or any): live to the channel layer (unless the committing process
    already did, `live_sent`), and queue their pushes."""
    now = timezone.now()
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    pks = _claim(pending, limit, now)
    result = Delivered(claimed=len(pks))
    if not pks:
        return result
    rows = list(OutboxMessage.objects.filter(pk__in=pks).select_related("case", "event").order_by("created_at"))
    integrations = [row for row in rows if row.audience == Audience.REGION]
    if integrations:
        _fan_out(integrations, now)
    rows = [row for row in rows if row.audience != Audience.REGION]
    if not live_sent and not publish(live_messages(rows)):
        for row in rows:
            _retry_or_fail(row, "live: the channel layer is unreachable", now)
        result.pushes_queued = _queue_pushes(rows, now)
        return result
    OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(status=OutboxStatus.SENT, last_error="")
    result.messages = len(rows) + len(integrations)
    result.pushes_queued = _queue_pushes(rows, now)
    return result


def _fan_out(rows: list[OutboxMessage], now: datetime) -> None:
    """The integrations' rows become webhook messages, in the transaction that marks them delivered; then they go."""
    try:
        with transaction.atomic():
            made = webhooks.fan_out(rows)
            OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=OutboxStatus.SENT, last_error=""
            )
    except Exception as exc:
        logger.warning("Webhook fan-out failed", exc_info=True)
        for row in rows:
            _retry_or_fail(row, f"webhooks: {type(exc).__name__}: {exc}", now)
        return
    if made:
        webhooks.dispatch()


def live_messages(rows: Iterable[OutboxMessage]) -> list[dict]:
    """The live messages of `rows`: the integrations' rows have none (they become webhooks)."""
    return [live_message(row) for row in rows if row.audience != Audience.REGION]


def live_message(row: OutboxMessage) -> dict:
    """What a subscriber receives through its group: ids only. Each subscription loads the case itself, with the
    subscriber's own permissions, so nothing a subscriber may not see travels through Redis."""
    group = group_name(row.audience, row.audience_id)
    return {
        "type": NOTIFY,
        "group": group,
        "id": notification_id(row.event_id),
        "case": row.case_id,
        "event": row.event_id,
        "event_type": row.event_type,
        "visibility": row.event.visibility,
        "at": row.event.created_at.isoformat(),
    }


def _queue_pushes(rows: list[OutboxMessage], now: datetime) -> list[int]:
    """Push rows for the people among `rows`' audiences: one per active device, unless they muted the kind; in their
    quiet hours a non-urgent push waits for the morning. Idempotent (one row per notification and device)."""
    people = [row for row in rows if row.audience == Audience.USER and row.event_type in events.EVENTS]
    if not people:
        return []
    user_ids = {row.audience_id for row in people}
    devices: dict[int, list[Device]] = {}
    for device in Device.objects.filter(user_id__in=user_ids, active=True):
        devices.setdefault(device.user_id, []).append(device)
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=user_ids)}
    new = []
    for row in people:
        spec = events.spec_of(row.event_type, row.case.kind)
        preference = preferences.get(row.audience_id)
        if preference is not None and spec.kind in preference.muted_events:
            continue
        at = now
        if preference is not None and not spec.urgent:
            at = quiet_hours_end(preference, row.case.region.tz, now) or now
        new.extend(PushDelivery(message=row, device=d, next_attempt_at=at) for d in devices.get(row.audience_id, ()))
    PushDelivery.objects.bulk_create(new, ignore_conflicts=True)
    return list(
        PushDelivery.objects.filter(message__in=people, status=PushStatus.PENDING, next_attempt_at__lte=now)
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def quiet_hours_end(preference: NotificationPreference, tz, now: datetime) -> datetime | None:
    """When the user's quiet hours (in the case's region's time zone) end, if `now` falls inside them."""
    start, end = preference.quiet_start, preference.quiet_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until


# --- pushes --------------------------------------------------------------------------------------------------------


def push_for(row: PushDelivery) -> PushMessage:
    """The push of one delivery, in its device's language."""
    message, case = row.message, row.message.case
    status = message.event.payload.get("to") or case.status
    title, body = events.render(
        message.event_type, row.device.language, code=case.tracking_code, status=status, case_kind=case.kind
    )
    return PushMessage(
        token=row.device.token,
        platform=row.device.platform,
        title=title,
        body=body,
        data={
            "notificationId": notification_id(message.event_id),
            "caseId": to_global_id("Case", case.pk),
            "trackingCode": case.tracking_code,
            "eventType": message.event_type,
            "status": status,
        },
        collapse_key=f"case-{case.pk}",
        urgent=events.spec_of(message.event_type, case.kind).urgent,
    )


def send_pushes(ids: Iterable[int] | None = None, *, limit: int = FCM_BATCH) -> int:
    """Send due pending pushes (those named, or any) in one FCM batch; returns how many FCM accepted. Dead tokens
    deactivate their device; passing failures come back after their backoff (at least what Retry-After asked)."""
    now = timezone.now()
    pending = PushDelivery.objects.filter(status=PushStatus.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    pks = _claim(pending, limit, now)
    if not pks:
        return 0
    rows = list(
        PushDelivery.objects.filter(pk__in=pks)
        .select_related("device", "message__case", "message__event")
        .order_by("pk")
    )
    gone = [row for row in rows if not row.device.active]
    for row in gone:
        row.status, row.last_error = PushStatus.DROPPED, "device deactivated"
    live = [row for row in rows if row.device.active]
    try:
        results = get_push_backend().send([push_for(row) for row in live]) if live else []
    except Exception as exc:  # nothing came back at all (credentials, network): the whole batch is retried
        logger.warning("Push batch failed", exc_info=True)
        for row in live:
            _retry_or_fail(row, f"{type(exc).__name__}: {exc}", now)
        live, results = [], []
    sent, dead = 0, set()
    for row, result in zip(live, results, strict=True):
        if result.ok:
            row.status, row.sent_at, row.provider_id, row.last_error = PushStatus.SENT, now, result.provider_id, ""
            sent += 1
        elif result.token_invalid:
            row.status, row.last_error = PushStatus.DROPPED, result.error
            dead.add(row.device_id)
        elif result.retryable:
            _retry_or_fail(row, result.error, now, after=result.retry_after)
        else:
            row.status, row.last_error = PushStatus.FAILED, result.error
    finished = gone + [row for row in live if row.status != PushStatus.PENDING]
    PushDelivery.objects.bulk_update(finished, ["status", "sent_at", "provider_id", "last_error"])
    if dead:
        Device.objects.filter(pk__in=dead).update(active=False)
    return sent


def sweep() -> tuple[int, int]:
    """Everything due: rows no worker got (broker down, worker killed, lease run out) and retries whose time came."""
    messages = pushed = 0
    while True:
        delivered = deliver()
        messages += delivered.messages
        if not delivered.claimed:
            break
    while True:
        batch = send_pushes()
        pushed += batch
        if not batch:
            break
    return messages, pushed
