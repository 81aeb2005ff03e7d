"""The append-only, hash-chained timeline of a case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from backend.cases.models import CaseEvent

GENESIS = "0" * 64


def canonical(event: CaseEvent) -> str:
    """The event's content as canonical JSON: what its hash covers."""
    return json.dumps(
        {
            "case": event.case_id,
            "seq": event.seq,
            "type": event.type,
            "actor": event.actor_id,
            "visibility": event.visibility,
            "payload": event.payload,
            "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, event: CaseEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def append_event(case, *, type: str, actor_user, visibility: str, payload: dict, at: datetime) -> CaseEvent:
    """Add the next event; the caller holds the case's row lock (inside `transition()`). A case's first events are
    written with it (services.open_case)."""
    last = case.events.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = chained_event(
        case,
        seq=seq,
        prev_hash=prev_hash,
        type=type,
        actor_user=actor_user,
        visibility=visibility,
        payload=payload,
        at=at,
    )
    event.save()
    return event


def chained_event(
    case, *, seq: int, prev_hash: str, type: str, actor_user, visibility: str, payload: dict, at: datetime
) -> CaseEvent:
    """The event that follows `prev_hash` on the case's timeline, hashed and not yet saved."""
    # Round-trip the payload through JSON so the hash covers exactly what the database will hand back.
    event = CaseEvent(
        case=case,
        seq=seq,
        type=type,
        actor=actor_user,
        visibility=visibility,
        payload=json.loads(json.dumps(payload)),
        created_at=at,
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event)
    return event
