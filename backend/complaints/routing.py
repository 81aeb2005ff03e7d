"""Routing: which agency receives a complaint. Rules are data per region, tried in order; the first match wins; no
match goes to the region's triage agency. The decision says why, so it can be written on the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from backend.complaints.config import region_config
from backend.complaints.models import ComplaintCategory, RoutingRule
from backend.regions.models import Agency, Area, Region


@dataclass(frozen=True)
class RoutingDecision:
    agency: Agency | None
    rule: RoutingRule | None

    def as_payload(self) -> dict:
        return {
            "agency": self.agency.code if self.agency else None,
            "rule": self.rule.pk if self.rule else None,
            "reason": str(self.rule) if self.rule else "no rule matched: the region's triage agency",
        }


def route_complaint(*, region: Region, category: ComplaintCategory, area: Area | None) -> RoutingDecision:
    categories = {category.pk, category.parent_id} - {None}
    areas = {area.pk, area.parent_id} - {None} if area else set()
    for rule in region_config(region).rules:
        if rule.category_id is not None and rule.category_id not in categories:
            continue
        if rule.area_id is not None and rule.area_id not in areas:
            continue
        return RoutingDecision(rule.agency, rule)
    return RoutingDecision(region.triage_agency, None)
