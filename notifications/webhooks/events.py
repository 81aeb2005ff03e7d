"""Which webhook event types a timeline event is, and what a message carries by default: a stable, versioned
summary of the case (`data.version`), never a reporter's identity, an NIK or an internal note."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from graphql_relay import to_global_id

from backend.cases.models import Case, CaseEvent, CaseKind
from backend.cases.workflow import KINDS

SUMMARY_VERSION = 1

#: Every event type an endpoint may ask for, with what it means.
EVENT_TYPES = {
    "case.submitted": _("A complaint was filed."),
    "case.routed": _("A complaint reached an agency (first routing or a new one)."),
    "case.status_changed": _("A case's status changed (any kind, any status)."),
    "case.transferred": _("An agency took over a case offered to it (disposisi)."),
    "case.overdue": _("A case passed its deadline."),
    "case.resolved": _("The agency resolved a complaint."),
    "case.closed": _("A complaint closed (confirmed, closed by time, rejected, a duplicate or forwarded)."),
    "permit.submitted": _("A permit application was filed."),
    "permit.revision_requested": _("The office asked the applicant for revisions."),
    "permit.fee_assessed": _("The fee was assessed."),
    "permit.issued": _("The permit was issued."),
    "permit.rejected": _("The application was rejected."),
}

_COMPLAINT = {
    "submitted": ["case.submitted"],
    "routed": ["case.routed"],
    "transfer_accepted": ["case.transferred"],
    "overdue": ["case.overdue"],
    "resolved": ["case.resolved"],
}
_PERMIT = {
    "submitted": ["permit.submitted"],
    "revision_requested": ["permit.revision_requested"],
    "fee_assessed": ["permit.fee_assessed"],
    "issued": ["permit.issued"],
    "rejected": ["permit.rejected"],
    "overdue": ["case.overdue"],
}


def types_of_kind(kind: str) -> set[str]:
    """The event types a case of this kind can send."""
    own = _COMPLAINT if kind == CaseKind.COMPLAINT else _PERMIT
    kind_types = {"case.status_changed", *(t for types in own.values() for t in types)}
    return kind_types | {"case.closed"} if kind == CaseKind.COMPLAINT else kind_types


def _step(case: Case, event: CaseEvent) -> tuple[str | None, str | None]:
    """The statuses an event moved its case from and to (None where its payload's `from`/`to` name something else:
    a transfer's name agencies)."""
    statuses = {status.value for status in KINDS[case.kind].statuses}
    before, after = event.payload.get("from"), event.payload.get("to")
    return (before if before in statuses else None), (after if after in statuses else None)


def status_at(case: Case, event: CaseEvent) -> str:
    """The case's status as `event` left it: the event's own, else the last one recorded before it."""
    _before, after = _step(case, event)
    if after is not None:
        return after
    for payload in case.events.filter(seq__lt=event.seq).order_by("-seq").values_list("payload", flat=True):
        if payload.get("to") in {status.value for status in KINDS[case.kind].statuses}:
            return payload["to"]
    return case.status


def types_of(case: Case, event: CaseEvent) -> list[str]:
    """The webhook event types of one timeline event of `case`."""
    types = []
    before, after = _step(case, event)
    if before is not None and after is not None and before != after:
        types.append("case.status_changed")
    types.extend((_COMPLAINT if case.kind == CaseKind.COMPLAINT else _PERMIT).get(event.type, ()))
    if types and case.kind == CaseKind.COMPLAINT and after != before and after in KINDS[case.kind].terminal:
        types.append("case.closed")
    return types


def summary(case: Case, event: CaseEvent) -> dict:
    """`data` of a message: the case as the event left it. Its status is the event's own (every event records the
    status it left); the other fields are the case's when the message is made, moments after the change."""
    status = status_at(case, event)
    data = {
        "version": SUMMARY_VERSION,
        "id": to_global_id("Case", case.pk),
        "trackingCode": case.tracking_code,
        "kind": case.kind,
        "region": case.region.code,
        "status": status,
        "previousStatus": _step(case, event)[0],
        "agency": case.agency.code if case.agency_id else None,
        "area": case.area.code if case.area_id else None,
        "submittedAt": case.submitted_at.isoformat() if case.submitted_at else None,
        "dueAt": case.due_at.isoformat() if case.due_at else None,
        "closedAt": case.closed_at.isoformat() if case.closed_at and status in KINDS[case.kind].terminal else None,
        "event": {"id": str(event.pk), "type": event.type, "at": event.created_at.isoformat()},
    }
    if case.kind == CaseKind.COMPLAINT:
        complaint = case.complaint
        data["complaint"] = {
            "category": complaint.category.code,
            "description": complaint.description,
            "address": complaint.address,
            "lat": case.lat,
            "lon": case.lon,
            "anonymous": complaint.anonymous,
            "confidential": complaint.confidential,
        }
    else:
        data["permit"] = {"type": case.permit.type_version.permit_type.code}
    return data
