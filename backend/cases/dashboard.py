"""Dashboards for a region or one agency over a period, from aggregate SQL (the same on PostgreSQL and SQLite):
counts in one conditional aggregate, percentiles as one ordered single-row query each, breakdowns by category and
by area as grouped aggregates. Working-time measures come from the case (kept by transition() as they happen)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor
from backend.cases.errors import CaseErrorCode
from backend.cases.models import Case, CaseEvent
from backend.cases.workflow import clock_stopped
from backend.errors import DomainError


@dataclass(frozen=True)
class Breakdown:
    key: str
    name: str
    received: int
    resolved: int
    open: int
    overdue: int


@dataclass(frozen=True)
class Dashboard:
    received: int
    resolved: int
    open: int
    overdue: int
    sla_compliance: float | None  # share of the cases resolved in the period that met their deadline, 0-100
    average_rating: float | None
    first_response_median_s: int | None
    first_response_p90_s: int | None
    resolution_median_s: int | None
    resolution_p90_s: int | None
    transfers_in: int
    transfers_out: int
    by_category: list[Breakdown]
    by_area: list[Breakdown]


def percentile(values: QuerySet, field: str, fraction: float) -> int | None:
    """The nearest-rank percentile of a column, in one query (ORDER BY with OFFSET)."""
    values = values.exclude(**{f"{field}__isnull": True})
    count = values.count()
    if not count:
        return None
    rank = max(1, math.ceil(fraction * count))
    return values.order_by(field).values_list(field, flat=True)[rank - 1]


def _counts(since: datetime, until: datetime, now: datetime) -> dict:
    in_period = Q(resolved_at__gte=since, resolved_at__lt=until)
    still_open = ~Q(status__in=clock_stopped())
    return {
        "received": Count("pk", filter=Q(submitted_at__gte=since, submitted_at__lt=until)),
        "resolved": Count("pk", filter=in_period),
        "open": Count("pk", filter=still_open),
        "overdue": Count("pk", filter=still_open & Q(due_at__lt=now, sla_paused_at__isnull=True)),
    }


def dashboard_for(*, actor: Actor, region, agency_id: int | None, since: datetime, until: datetime) -> Dashboard:
    """The dashboard as a person asks for it: the region's staff see the region's, or one agency's of it (an
    `agency_id` that is not the region's: NOT_FOUND, as is a region not theirs)."""
    return dashboard(region=region, agency=_asked(actor, region, agency_id), since=since, until=until)


def weekly_for(*, actor: Actor, region, agency_id: int | None, since: datetime, weeks: int):
    """dashboard_for() of each of `weeks` weeks from `since`: [(the week's start, its dashboard)]."""
    agency = _asked(actor, region, agency_id)
    starts = [since + timedelta(weeks=n) for n in range(weeks)]
    return [
        (start, dashboard(region=region, agency=agency, since=start, until=start + timedelta(weeks=1)))
        for start in starts
    ]


def _asked(actor: Actor, region, agency_id: int | None):
    if region is None or not actor.works_in_region(region.pk):
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such region, or not yours."))
    agency = region.agencies.filter(pk=agency_id).first() if agency_id is not None else None
    if agency_id is not None and agency is None:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such agency in this region."))
    return agency


def dashboard(*, region, agency=None, since: datetime, until: datetime, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    cases = Case.objects.filter(region=region)
    if agency is not None:
        cases = cases.filter(agency=agency)
    resolved = cases.filter(resolved_at__gte=since, resolved_at__lt=until)
    totals = cases.aggregate(
        **_counts(since, until, now),
        met=Count("pk", filter=Q(resolved_at__gte=since, resolved_at__lt=until, met_sla=True)),
        rating=Avg("complaint__rating", filter=Q(resolved_at__gte=since, resolved_at__lt=until)),
    )
    events = CaseEvent.objects.filter(case__region=region, created_at__gte=since, created_at__lt=until)
    transfers_in = transfers_out = 0
    if agency is not None:
        transfers_in = events.filter(type="transfer_accepted", payload__agency=agency.code).count()
        transfers_out = events.filter(type="transfer_offered", payload__from=agency.code).count()
    else:
        transfers_in = transfers_out = events.filter(type="transfer_accepted").count()

    def breakdown(key: str, name: str) -> list[Breakdown]:
        rows = (
            cases.exclude(**{f"{key}__isnull": True})
            .values(k=F(key), n=F(name))
            .annotate(**_counts(since, until, now))
            .order_by("k")
        )
        return [Breakdown(r["k"], r["n"], r["received"], r["resolved"], r["open"], r["overdue"]) for r in rows]

    return Dashboard(
        received=totals["received"],
        resolved=totals["resolved"],
        open=totals["open"],
        overdue=totals["overdue"],
        sla_compliance=round(100 * totals["met"] / totals["resolved"], 1) if totals["resolved"] else None,
        average_rating=round(totals["rating"], 2) if totals["rating"] is not None else None,
        first_response_median_s=percentile(
            cases.filter(first_response_at__gte=since, first_response_at__lt=until), "first_response_seconds", 0.5
        ),
        first_response_p90_s=percentile(
            cases.filter(first_response_at__gte=since, first_response_at__lt=until), "first_response_seconds", 0.9
        ),
        resolution_median_s=percentile(resolved, "resolution_seconds", 0.5),
        resolution_p90_s=percentile(resolved, "resolution_seconds", 0.9),
        transfers_in=transfers_in,
        transfers_out=transfers_out,
        by_category=breakdown("complaint__category__code", "complaint__category__name_id"),
        by_area=breakdown("area__code", "area__name"),
    )
