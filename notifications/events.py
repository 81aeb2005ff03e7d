"""What each timeline event means to the people it is pushed to: its kind (what users can mute), whether it is
urgent (pushed even in quiet hours), and the words of the push, in the device's language."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from backend.cases.workflow import STATUS_LABELS


class NotificationKind(models.TextChoices):
    STATUS = "status", _("My case moved on")
    REPLY = "reply", _("A reply from the agency")
    INFO_REQUESTED = "info_requested", _("The agency needs something from me")
    RESOLVED = "resolved", _("My case was resolved or closed")
    NEW_CASE = "new_case", _("A new case for my agency")
    ASSIGNED = "assigned", _("A case was assigned to me")
    RESIDENT_ACTIVITY = "resident_activity", _("A resident answered, reopened or rated")
    OVERDUE = "overdue", _("A case is overdue")


@dataclass(frozen=True)
class EventKind:
    kind: NotificationKind
    title: str  # untranslated message ids, rendered in the device's language by `render`
    body: str
    urgent: bool = False


K = NotificationKind
# Events not listed here (internal bookkeeping: publish, notes, surveys) reach open apps live but are never pushed.
EVENTS: dict[str, EventKind] = {
    "submitted": EventKind(K.NEW_CASE, _("New case %(code)s"), _("A new case arrived: %(status)s.")),
    "routed": EventKind(K.STATUS, _("Case %(code)s"), _("Your report reached the agency: %(status)s.")),
    "accepted": EventKind(K.STATUS, _("Case %(code)s"), _("The agency accepted your report.")),
    "work_started": EventKind(K.STATUS, _("Case %(code)s"), _("Work on your report has started.")),
    "transfer_offered": EventKind(K.NEW_CASE, _("Case %(code)s"), _("A case is offered to your agency.")),
    "transfer_accepted": EventKind(K.STATUS, _("Case %(code)s"), _("Your report moved to another agency.")),
    "transfer_declined": EventKind(K.NEW_CASE, _("Case %(code)s"), _("A transfer was declined: %(status)s.")),
    "forwarded": EventKind(K.STATUS, _("Case %(code)s"), _("Your report was handed to an outside body.")),
    "replied": EventKind(K.REPLY, _("Case %(code)s"), _("The agency replied to your report.")),
    "info_requested": EventKind(
        K.INFO_REQUESTED, _("Case %(code)s needs you"), _("The agency asks for more information."), urgent=True
    ),
    "resolved": EventKind(K.RESOLVED, _("Case %(code)s resolved"), _("Please confirm or reopen it.")),
    "rejected": EventKind(K.RESOLVED, _("Case %(code)s"), _("Your report was rejected: %(status)s.")),
    "marked_duplicate": EventKind(K.RESOLVED, _("Case %(code)s"), _("Your report joins an earlier one.")),
    "auto_closed": EventKind(K.RESOLVED, _("Case %(code)s closed"), _("Your report was closed.")),
    "assigned": EventKind(K.ASSIGNED, _("Case %(code)s"), _("A case was assigned to you.")),
    "info_provided": EventKind(K.RESIDENT_ACTIVITY, _("Case %(code)s"), _("The resident answered.")),
    "reopened": EventKind(K.RESIDENT_ACTIVITY, _("Case %(code)s reopened"), _("The case was reopened.")),
    "confirmed": EventKind(K.RESIDENT_ACTIVITY, _("Case %(code)s"), _("The resident confirmed the resolution.")),
    "co_reporter_joined": EventKind(K.STATUS, _("Case %(code)s"), _("Another resident reported the same problem.")),
    # permits
    "verification_started": EventKind(K.STATUS, _("Application %(code)s"), _("The office is checking your file.")),
    "revision_requested": EventKind(
        K.INFO_REQUESTED, _("Application %(code)s needs you"), _("Please revise your application."), urgent=True
    ),
    "resubmitted": EventKind(K.RESIDENT_ACTIVITY, _("Application %(code)s"), _("The applicant sent a revision.")),
    "review_started": EventKind(K.STATUS, _("Application %(code)s"), _("Your application is in technical review.")),
    "fee_assessed": EventKind(
        K.INFO_REQUESTED, _("Application %(code)s: fee"), _("The fee is set: please pay it."), urgent=True
    ),
    "payment_recorded": EventKind(K.STATUS, _("Application %(code)s"), _("Your payment was received.")),
    "approved": EventKind(K.STATUS, _("Application %(code)s approved"), _("The permit will be issued shortly.")),
    "issued": EventKind(K.RESOLVED, _("Permit %(code)s issued"), _("Your permit is ready to download.")),
    "withdrawn": EventKind(K.RESIDENT_ACTIVITY, _("Application %(code)s"), _("The applicant withdrew it.")),
    "revoked": EventKind(K.RESOLVED, _("Permit %(code)s revoked"), _("Your permit was revoked.")),
    "message": EventKind(K.REPLY, _("Application %(code)s"), _("A new message on your application.")),
    "deemed_approval_due": EventKind(
        K.OVERDUE,
        _("Application %(code)s is past its deadline"),
        _("No decision within the service standard."),
        urgent=True,
    ),
    "overdue": EventKind(K.OVERDUE, _("Case %(code)s is overdue"), _("Its deadline has passed."), urgent=True),
    "escalated": EventKind(K.OVERDUE, _("Case %(code)s escalated"), _("It is long past its deadline."), urgent=True),
}


# Where a permit's words differ from a complaint's for the same event.
PERMIT_EVENTS: dict[str, EventKind] = {
    "rejected": EventKind(K.RESOLVED, _("Application %(code)s"), _("Your application was rejected: %(status)s.")),
}


def spec_of(event_type: str, case_kind: str) -> EventKind:
    """What an event (one of EVENTS) means on a case of this kind."""
    return (PERMIT_EVENTS.get(event_type) if case_kind == "permit" else None) or EVENTS[event_type]


def render(event_type: str, language: str, *, code: str, status: str, case_kind: str = "complaint") -> tuple[str, str]:
    """The push's title and body in `language` ('id' or 'en')."""
    spec = spec_of(event_type, case_kind)
    with translation.override(language):
        words = {"code": code, "status": str(STATUS_LABELS.get(status, status))}
        return str(spec.title) % words, str(spec.body) % words
