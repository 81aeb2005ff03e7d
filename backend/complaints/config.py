"""A per-process cache of each region's complaint configuration: its active categories (with their extra-answers
validators) and its routing rules, read once per `Region.config_version` (bumped by the services whenever an agency,
a category or a rule of the region changes) and `Region.geo_version` (rules name areas)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef

from backend.complaints.models import ComplaintCategory, RoutingRule

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class RegionConfig:
    versions: tuple[int, int]  # (config_version, geo_version) the rows were read at
    categories: dict[int, ComplaintCategory]  # active ones, each with `is_group` (it has active children)
    rules: tuple[RoutingRule, ...]  # active rules to active agencies, in the order they are tried
    validators: dict[int, Draft202012Validator] = field(default_factory=dict)  # made on first use

    def fresh_for(self, region) -> bool:
        config, geo = self.versions
        return config >= region.config_version and geo >= region.geo_version

    def validator(self, category: ComplaintCategory) -> Draft202012Validator | None:
        """The validator of the category's extra answers (None: it asks for none). jsonschema is loaded by the first
        process that needs it, not by every one."""
        if not category.extra_schema:
            return None
        found = self.validators.get(category.pk)
        if found is None:
            from jsonschema import Draft202012Validator

            found = self.validators.setdefault(category.pk, Draft202012Validator(category.extra_schema))
        return found


_configs: dict[int, RegionConfig] = {}
_lock = threading.Lock()


def region_config(region) -> RegionConfig:
    """The region's configuration, reloaded when it changed since it was cached. The rows are shared between the
    requests of the process: read them, never change them."""
    cached = _configs.get(region.pk)
    if cached is not None and cached.fresh_for(region):
        return cached
    with _lock:
        cached = _configs.get(region.pk)
        if cached is not None and cached.fresh_for(region):
            return cached
        config = _load(region)
        _configs[region.pk] = config
        return config


def _load(region) -> RegionConfig:
    from backend.regions.models import Region

    # The versions first: a change made while the rows are read leaves a newer version behind, and a reload.
    versions = Region.objects.filter(pk=region.pk).values_list("config_version", "geo_version").first() or (0, 0)
    children = ComplaintCategory.objects.filter(parent=OuterRef("pk"), active=True)
    categories = {
        c.pk: c
        for c in ComplaintCategory.objects.filter(region_id=region.pk, active=True).annotate(is_group=Exists(children))
    }
    rules = RoutingRule.objects.filter(region_id=region.pk, active=True, agency__active=True)
    return RegionConfig(
        versions=tuple(versions),
        categories=categories,
        rules=tuple(rules.select_related("agency", "category", "area").defer("area__boundary").order_by("order", "id")),
    )


def forget() -> None:
    """Drop every region's cached configuration."""
    with _lock:
        _configs.clear()
