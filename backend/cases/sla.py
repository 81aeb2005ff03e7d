"""The overdue sweep, run by Celery beat: every case past its deadline is flagged once (timeline event, the handling
agency's supervisors notified), and escalated once to the region's admins when it stays overdue for
`SLA_ESCALATE_AFTER_WORKING_HOURS` of working time. Running it twice notifies once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import Membership, Role
from backend.cases.models import Case
from backend.cases.services import transition
from backend.cases.workflow import clock_stopped
from backend.errors import DomainError
from backend.regions import calendar


@dataclass(frozen=True)
class SweepResult:
    flagged: int
    escalated: int


def _supervisors(agency_id: int) -> list[int]:
    return list(
        Membership.objects.filter(agency_id=agency_id, role=Role.AGENCY_SUPERVISOR).values_list("user_id", flat=True)
    )


def _region_admins(region_id: int) -> list[int]:
    return list(
        Membership.objects.filter(region_id=region_id, role=Role.REGION_ADMIN).values_list("user_id", flat=True)
    )


def sweep_overdue(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    running = Case.objects.exclude(status__in=clock_stopped()).filter(due_at__lt=now, sla_paused_at__isnull=True)
    flagged = escalated = 0
    for case in running.filter(overdue_notified_at__isnull=True).select_related("region").order_by("due_at"):
        try:
            transition(
                case,
                "mark_overdue",
                actor=None,
                changes={"overdue_notified_at": now},
                payload={"due_at": case.due_at.isoformat()},
                notify=_supervisors(case.agency_id) if case.agency_id else (),
            )
            flagged += 1
        except DomainError:
            continue  # changed state meanwhile: the next sweep looks again
    threshold = timedelta(hours=settings.SLA_ESCALATE_AFTER_WORKING_HOURS)
    candidates = running.filter(Q(escalated_at__isnull=True), overdue_notified_at__isnull=False)
    for case in candidates.select_related("region").order_by("due_at"):
        if calendar.working_time_between(case.region, case.due_at, now) < threshold:
            continue
        try:
            transition(
                case,
                "escalate",
                actor=None,
                changes={"escalated_at": now},
                payload={"due_at": case.due_at.isoformat()},
                notify=_region_admins(case.region_id),
            )
            escalated += 1
        except DomainError:
            continue
    return SweepResult(flagged, escalated)
