"""Dashboards: a region's or one agency's service over a period."""

from __future__ import annotations

import graphene

from backend.cases import dashboard
from backend.errors import DomainError
from backend.regions import selectors as region_selectors
from schema.errors import query_error
from schema.fields import node_pk


class DashboardRow(graphene.ObjectType):
    key = graphene.String(required=True, description="Category code or area code.")
    name = graphene.String(required=True)
    received = graphene.Int(required=True)
    resolved = graphene.Int(required=True)
    open = graphene.Int(required=True)
    overdue = graphene.Int(required=True)


def _hours(seconds: int | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


class DashboardType(graphene.ObjectType):
    class Meta:
        name = "Dashboard"
        description = "A region's (or one agency's) service over a period. Times are working hours."

    received = graphene.Int(required=True)
    resolved = graphene.Int(required=True)
    open = graphene.Int(required=True, description="Open now, whenever received.")
    overdue = graphene.Int(required=True, description="Open now and past the deadline (paused ones excluded).")
    sla_compliance = graphene.Float(description="Percent of the cases resolved in the period that met the deadline.")
    average_rating = graphene.Float()
    first_response_median_hours = graphene.Float()
    first_response_p90_hours = graphene.Float()
    resolution_median_hours = graphene.Float()
    resolution_p90_hours = graphene.Float()
    transfers_in = graphene.Int(required=True)
    transfers_out = graphene.Int(required=True)
    by_category = graphene.List(graphene.NonNull(DashboardRow), required=True)
    by_area = graphene.List(graphene.NonNull(DashboardRow), required=True)


class DashboardQueries(graphene.ObjectType):
    dashboard = graphene.Field(
        DashboardType,
        region=graphene.String(required=True),
        since=graphene.DateTime(required=True),
        until=graphene.DateTime(required=True),
        agency=graphene.ID(description="An Agency id; none: the whole region."),
        description="Staff of the region: counts, times, SLA compliance and ratings over a period.",
    )

    @staticmethod
    def resolve_dashboard(root, info, region, since, until, agency=None):
        try:
            board = dashboard.dashboard_for(
                actor=info.context.actor,
                region=region_selectors.region_by_slug_or_code(region),
                agency_id=(node_pk(agency, "Agency") or 0) if agency else None,
                since=since,
                until=until,
            )
        except DomainError as exc:
            raise query_error(exc) from None
        return DashboardType(
            received=board.received,
            resolved=board.resolved,
            open=board.open,
            overdue=board.overdue,
            sla_compliance=board.sla_compliance,
            average_rating=board.average_rating,
            first_response_median_hours=_hours(board.first_response_median_s),
            first_response_p90_hours=_hours(board.first_response_p90_s),
            resolution_median_hours=_hours(board.resolution_median_s),
            resolution_p90_hours=_hours(board.resolution_p90_s),
            transfers_in=board.transfers_in,
            transfers_out=board.transfers_out,
            by_category=[DashboardRow(**vars(row)) for row in board.by_category],
            by_area=[DashboardRow(**vars(row)) for row in board.by_area],
        )
