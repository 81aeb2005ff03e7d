"""The queue table's rows as HTML, written here rather than in the template: 50 rows of 8 cells cost Django's
template engine some 1,500 nodes and about 5 ms of the queue page's CPU, this well under 1 ms (bench/console.py,
bench/README.md "Staff console"). Every value that comes from data is escaped, as the template would escape it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from backend.cases.models import Priority
from backend.cases.workflow import STATUS_LABELS
from console import forms

ROW = (
    '<tr class="sla-{sla_state}" data-code="{code}">'
    '<td data-label="{l_code}"><a href="{case_path}{id}">{code}</a>{priority}</td>'
    '<td data-label="{l_status}">{status}</td>'
    '<td data-label="{l_sla}"><span class="sla {sla_state}">{sla}</span></td>'
    '<td data-label="{l_due}">{due}</td>'
    '<td data-label="{l_category}">{category}</td>'
    '<td data-label="{l_area}">{area}</td>'
    '<td data-label="{l_agency}">{agency}</td>'
    '<td data-label="{l_assignee}">{assignee}</td>'
    "</tr>\n"
)


class _Escaped(dict):
    """Texts escaped once a page, however many rows show them (statuses, SLA states, month names)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        self[key] = value = escape(self.make(key))
        return value


def render(rows, case_path: str) -> SafeString:
    """The `<tr>`s of the queue's rows; each cell carries its column's name for the stacked phone layout."""
    labels = {
        name: escape(label)
        for name, label in {
            "l_code": _("Tracking code"), "l_status": _("Status"), "l_sla": _("SLA"), "l_due": _("Due"),
            "l_category": _("Category"), "l_area": _("Area"), "l_agency": _("Agency"), "l_assignee": _("Assignee"),
        }.items()
    }  # fmt: skip
    statuses = _Escaped(lambda status: STATUS_LABELS.get(status, status))
    slas = _Escaped(lambda state: forms.SLA_LABELS[state])
    priorities = _Escaped(lambda priority: Priority(priority).label if priority in Priority.values else priority)
    months = _Escaped(lambda month: date_format(dt.date(2000, month, 1), "M"))  # as the template's "j M Y H:i"
    permit, none, path = escape(_("Permit")), "—", escape(case_path)
    html = []
    for row in rows:
        due = timezone.localtime(row.due_at) if row.due_at else None
        html.append(
            ROW.format(
                **labels,
                case_path=path,
                id=int(row.id),
                sla_state=escape(row.sla_state),
                code=escape(row.tracking_code),
                priority=f' <span class="tag">{priorities[row.priority]}</span>' if row.priority != "normal" else "",
                status=statuses[row.status],
                sla=slas[row.sla_state],
                due=f"{due.day} {months[due.month]} {due.year} {due:%H:%M}" if due else "",
                category=permit if row.kind == "permit" else escape(row.category_name or none),
                area=escape(row.area_name or none),
                agency=escape(row.agency_name or none),
                assignee=escape(row.assignee_name or none),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped
