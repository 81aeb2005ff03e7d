"""The console's forms: what a page reads from its input, handed to the domain as the API's arguments are."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from backend.cases.errors import RejectReason
from backend.cases.models import CaseKind
from backend.cases.workflow import STATUS_LABELS
from backend.work import queue


class SignInForm(forms.Form):
    login = forms.CharField(label=_("Username or e-mail"), max_length=254)
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput)


class PasswordForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"), max_length=128, strip=False, widget=forms.PasswordInput
    )
    new_password = forms.CharField(label=_("New password"), max_length=128, strip=False, widget=forms.PasswordInput)


def _choices(labels: dict) -> list:
    return [("", _("All")), *((value, label) for value, label in labels.items())]


SLA_LABELS = {
    queue.SlaState.OVERDUE: _("Overdue"),
    queue.SlaState.DUE_SOON: _("Due soon"),
    queue.SlaState.ON_TIME: _("On time"),
    queue.SlaState.PAUSED: _("Paused"),
    queue.SlaState.DONE: _("Finished"),
}


class QueueForm(forms.Form):
    """The staffQueue filter's fields that a page offers."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=lambda: _choices(STATUS_LABELS))
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All")), (CaseKind.COMPLAINT, _("Complaints")), (CaseKind.PERMIT, _("Permits"))],
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        choices=_choices(SLA_LABELS),
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        choices=[
            ("", _("Anyone")),
            (queue.AssigneeFilter.ME, _("Me")),
            (queue.AssigneeFilter.UNASSIGNED, _("Unassigned")),
        ],
    )
    order = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            (queue.QueueOrder.DUE_SOONEST, _("Due soonest")),
            (queue.QueueOrder.NEWEST, _("Newest")),
            (queue.QueueOrder.PRIORITY, _("Priority")),
        ],
    )
    text = forms.CharField(label=_("Tracking code or words"), required=False, max_length=200)
    incoming = forms.BooleanField(label=_("Incoming transfers"), required=False)

    def queue_filter(self) -> queue.QueueFilter:
        data = self.cleaned_data
        return queue.QueueFilter(
            statuses=(data["status"],) if data["status"] else (),
            kind=data["kind"] or None,
            sla=queue.SlaState(data["sla"]) if data["sla"] else None,
            assignee=queue.AssigneeFilter(data["assignee"] or queue.AssigneeFilter.ANYONE),
            order=queue.QueueOrder(data["order"] or queue.QueueOrder.DUE_SOONEST),
            text=data["text"].replace("\x00", "").strip(),
            incoming=data["incoming"],
        )


# How the timeline names its events to staff.
EVENT_LABELS = {
    "submitted": _("Submitted"),
    "routed": _("Routed to the agency"),
    "accepted": _("Accepted"),
    "work_started": _("Work started"),
    "claimed": _("Claimed"),
    "assigned": _("Assigned"),
    "replied": _("Reply to the reporter"),
    "note_added": _("Internal note"),
    "info_requested": _("Information requested"),
    "info_provided": _("Information provided"),
    "resolved": _("Resolved"),
    "rejected": _("Rejected"),
    "confirmed": _("Resolution confirmed"),
    "reopened": _("Reopened"),
    "auto_closed": _("Closed automatically"),
    "transfer_offered": _("Transfer offered (disposisi)"),
    "transfer_accepted": _("Transfer accepted"),
    "transfer_declined": _("Transfer declined"),
    "forwarded": _("Forwarded outside"),
    "marked_duplicate": _("Marked as a duplicate"),
    "co_reporter_joined": _("A co-reporter joined"),
    "co_reporters_added": _("Co-reporters added"),
    "published": _("Approved for public view"),
    "unpublished": _("Withdrawn from public view"),
    "rated": _("Rated"),
    "survey_answered": _("Survey answered"),
    "overdue": _("Overdue"),
    "escalated": _("Escalated"),
    # permits
    "verification_started": _("Verification started"),
    "revision_requested": _("Revision requested"),
    "resubmitted": _("Resubmitted"),
    "review_started": _("Sent to technical review"),
    "recommendation_recorded": _("Recommendation recorded"),
    "fee_assessed": _("Fee assessed"),
    "payment_recorded": _("Payment recorded"),
    "approved": _("Approved"),
    "issued": _("Permit issued"),
    "withdrawn": _("Withdrawn by the applicant"),
    "message": _("Message"),
    "nik_viewed": _("Whole NIK viewed"),
    "revoked": _("Permit revoked"),
    "deemed_approval_due": _("Deadline passed without a decision (deemed approval)"),
}


class DashboardForm(forms.Form):
    DEFAULT_WEEKS = 8

    agency = forms.TypedChoiceField(label=_("Agency"), required=False, coerce=int, empty_value=None)
    weeks = forms.TypedChoiceField(
        label=_("Period"),
        required=False,
        coerce=int,
        empty_value=DEFAULT_WEEKS,
        choices=[(4, _("4 weeks")), (8, _("8 weeks")), (13, _("3 months")), (26, _("6 months"))],
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", _("The whole region")), *((a.pk, a.name) for a in agencies)]


REJECT_LABELS = {
    RejectReason.NOT_OUR_MATTER: _("Not a matter for the regional government"),
    RejectReason.INSUFFICIENT_INFORMATION: _("Not enough information"),
    RejectReason.NOT_A_PROBLEM: _("Not a problem"),
    RejectReason.ABUSIVE: _("Abusive, spam or a hoax"),
    RejectReason.OTHER: _("Another reason (in the note)"),
}
