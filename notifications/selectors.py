"""Reads of the outbox: what a subscriber missed while its socket was away, replayed when it subscribes again.

A notification's id is its timeline event's (`delivery.notification_id`), the same on every subscription and push
that carries it. Replay reads the audience's outbox rows written since the event the subscriber saw last, whatever
their delivery status: rows still pending (Redis down, a relay behind) are replayed too, and the live copy that
follows is dropped by the subscription (schema.subscriptions).

The events of one case are in commit order by their number (`seq`: each change holds the case's row lock), so for
the case of the last notification seen, replay starts exactly after it. Events of other cases are stamped inside
their transaction and commit a moment later, so one stamped just before the last one seen may have committed (and
been sent) after it: for those, replay starts REPLAY_OVERLAP earlier, and what falls in the overlap may arrive again,
which at-least-once delivery allows (apps drop ids they have handled)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.cases.models import CaseEvent, OutboxMessage
from backend.errors import DomainError
from notifications.delivery import live_message
from notifications.errors import ReplayErrorCode

REPLAY_OVERLAP = timedelta(seconds=10)
_ID_MAX = 2**63 - 1  # a bigint


def event_of(notification_id: str) -> int:
    """The event a notification id names; DomainError INVALID for anything that is not one."""
    text = notification_id.strip() if isinstance(notification_id, str) else ""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _ID_MAX:
        raise DomainError(ReplayErrorCode.INVALID, _("This is not a notification id."), field="after")
    return int(text)


def missed(audience: str, audience_id: int, after: str) -> list[dict]:
    """The live messages of one audience (a subscription's group) after notification `after`, oldest first (for other
    cases than its own, from REPLAY_OVERLAP before it). Refused with REPLAY_UNAVAILABLE when the notification is
    unknown, older than GRAPHQL_WS_REPLAY_MAX_AGE_SECONDS, or followed by more than GRAPHQL_WS_REPLAY_LIMIT: the
    subscriber reloads what it shows and subscribes without `after`."""
    seen = CaseEvent.objects.filter(pk=event_of(after)).values_list("created_at", "case_id", "seq").first()
    oldest = timezone.now() - timedelta(seconds=settings.GRAPHQL_WS_REPLAY_MAX_AGE_SECONDS)
    if seen is None or seen[0] < oldest:
        raise DomainError(
            ReplayErrorCode.REPLAY_UNAVAILABLE,
            _("What happened since this notification can no longer be replayed. Reload, then subscribe again."),
            field="after",
        )
    since, case_id, seq = seen
    limit = settings.GRAPHQL_WS_REPLAY_LIMIT
    rows = list(
        OutboxMessage.objects.filter(audience=audience, audience_id=audience_id, created_at__gte=since - REPLAY_OVERLAP)
        .exclude(case_id=case_id, event__seq__lte=seq)
        .select_related("event")
        .order_by("created_at", "event_id")[: limit + 1]
    )
    if len(rows) > limit:
        raise DomainError(
            ReplayErrorCode.REPLAY_UNAVAILABLE,
            _("More happened since this notification than can be replayed. Reload, then subscribe again."),
            field="after",
        )
    return [live_message(row) for row in rows]
