"""Handing the outbox on: every change writes its outbox rows (one per event and audience) in its own transaction,
and the rows leave only once that transaction commits, never for one rolled back. The core decides when; the
delivery layer (notifications) decides how, and the core imports none of it.

- With the relay (`OUTBOX_RELAY`, PostgreSQL, the production setup) the writing transaction also sends a
  `NOTIFY simpul_outbox` naming the rows, which PostgreSQL delivers at COMMIT; the relay of a worker listens on that
  channel (notifications.relay). The process that made the change does nothing more.
- Without it (the embedded default), after COMMIT this process calls the hand-off `OUTBOX_HANDOFF` names (a dotted
  path, imported on first use) with the rows.
- Either way, rows that are not handed on stay pending, and the delivery layer's sweep finds them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string

from backend.accounts.actor import Actor
from backend.cases.models import Audience, Case, CaseEvent, CaseParticipant, OutboxMessage, Visibility

CHANNEL = "simpul_outbox"  # the PostgreSQL notification channel the relay listens on
PAYLOAD_MAX = 7900  # bytes of row ids per NOTIFY (PostgreSQL takes up to 8000)


@cache
def _handoff() -> Callable[[list[OutboxMessage]], None]:
    return import_string(settings.OUTBOX_HANDOFF)


def schedule(rows: Iterable[OutboxMessage]) -> None:
    """Hand the rows on as soon as the current transaction commits (at once outside one). A statement that writes
    rows on its own may NOTIFY the relay itself (notify_sql), as the opening of a case does."""
    rows = list(rows)
    if not rows:
        return
    if settings.OUTBOX_RELAY:
        with connection.cursor() as cursor:
            cursor.execute(*notify_sql([str(row.pk) for row in rows]))
        return
    handoff = _handoff()
    transaction.on_commit(lambda: handoff(rows), robust=True)


def notify_payloads(ids: list[str]) -> list[str]:
    """The NOTIFY payloads naming `ids`: comma-separated, each within PostgreSQL's limit."""
    payloads, current = [], ""
    for pk in ids:
        if current and len(current) + 1 + len(pk) > PAYLOAD_MAX:
            payloads.append(current)
            current = ""
        current = f"{current},{pk}" if current else pk
    return [*payloads, current] if current else payloads


def notify_sql(ids: list[str]) -> tuple[str, list]:
    """The SELECT telling the relay of new rows: run in the transaction that writes them, PostgreSQL delivers it at
    COMMIT, and drops it on a rollback."""
    return "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload", [CHANNEL, notify_payloads(ids)]


# --- who hears of an event, and its rows ----------------------------------------------------------------------


def audiences(
    case: Case,
    visibility: str,
    actor: Actor | None,
    *,
    new_case: bool = False,
    notify: Iterable[int] = (),
    previous_agency_id: int | None = None,
) -> list[tuple[str, int]]:
    """Who hears of an event: everyone watching the case (live only), the reporter and co-reporters (public events),
    the assignee, the agency's queue (and the queue the case just left, or was offered to), the users a move names
    besides (`notify`: supervisors told of an overdue case, admins of an escalation), and the region's integrations
    (one row, which the delivery layer turns into webhook messages)."""
    acting_user = actor.user.pk if actor is not None and actor.user is not None else None
    users = set()
    if visibility == Visibility.PUBLIC:
        users.add(case.resident_id)
        if not new_case:  # a case created a moment ago has no co-reporters yet
            users.update(CaseParticipant.objects.filter(case=case).values_list("user_id", flat=True))
    if case.assignee_id:
        users.add(case.assignee_id)
    users.update(notify)
    users.discard(acting_user)
    audiences = [(Audience.USER, user_id) for user_id in sorted(users)]
    # The handler, an agency offered the case, and the one it just left.
    agencies = {case.agency_id, case.transfer_to_id, previous_agency_id} - {None}
    audiences.extend((Audience.AGENCY, agency_id) for agency_id in sorted(agencies))
    if not new_case:  # nobody can be watching a case created a moment ago
        audiences.append((Audience.CASE, case.pk))
    audiences.append((Audience.REGION, case.region_id))
    return audiences


def rows_for(case: Case, event: CaseEvent, audiences: list[tuple[str, int]]) -> list[OutboxMessage]:
    return [
        OutboxMessage(case=case, event=event, audience=audience, audience_id=audience_id, event_type=event.type)
        for audience, audience_id in audiences
    ]


def write(
    case: Case,
    event: CaseEvent,
    actor: Actor | None,
    *,
    notify: Iterable[int] = (),
    previous_agency_id: int | None = None,
) -> None:
    """One row per audience of the event (audiences), handed on after COMMIT (schedule)."""
    who = audiences(case, event.visibility, actor, notify=notify, previous_agency_id=previous_agency_id)
    rows = OutboxMessage.objects.bulk_create(rows_for(case, event, who))
    schedule(rows)
