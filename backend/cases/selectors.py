"""Reads of the Case core."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend.accounts.models import User
from backend.cases.models import Case, CaseEvent
from backend.cases.timeline import GENESIS, chain_hash


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def verify_chain(case: Case, events: Iterable[CaseEvent] | None = None) -> BrokenLink | None:
    """The first event whose hash or link does not match its content, or None when the timeline is intact. `events`:
    the case's whole timeline in order of `seq`, when the caller has it loaded already."""
    prev_hash, expected_seq = GENESIS, 1
    for event in case.events.order_by("seq").iterator() if events is None else events:
        if event.seq != expected_seq:
            return BrokenLink(expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return BrokenLink(event.seq, "links to a different previous event")
        if chain_hash(prev_hash, event) != event.hash:
            return BrokenLink(event.seq, "content does not match its hash")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return None


def assignable_staff(case: Case):
    """Who a case may be assigned to: active staff of its handling agency."""
    if case.agency_id is None:
        return User.objects.none()
    return User.objects.filter(is_active=True, memberships__agency_id=case.agency_id).distinct().order_by("username")
