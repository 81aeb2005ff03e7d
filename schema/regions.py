"""Tenancy in the API: regions, their areas and agencies (public), agency staff lists (staff of the region only)."""

from __future__ import annotations

import graphene
from django.db.models import Prefetch
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from backend.accounts.models import Role
from backend.errors import DomainError
from backend.regions import selectors
from backend.regions.models import Agency, Area, AreaLevel, Region, RegionKind, RegionTimezone
from schema.errors import query_error
from schema.fields import KeysetConnectionField, selects

RegionKindEnum = graphene.Enum.from_enum(RegionKind, name="RegionKind")
RegionTimezoneEnum = graphene.Enum.from_enum(RegionTimezone, name="RegionTimezone")
AreaLevelEnum = graphene.Enum.from_enum(AreaLevel, name="AreaLevel")
RoleEnum = graphene.Enum.from_enum(Role, name="Role")


class StaffMember(graphene.ObjectType):
    """Someone who works at an agency, as their colleagues in the region see them."""

    full_name = graphene.String(required=True)
    email = graphene.String()
    role = graphene.Field(RoleEnum, required=True)


# Nodes hide inactive rows in `get_node` rather than `get_queryset`: graphene-django re-fetches every foreign key
# through a custom `get_queryset`, one query per row, which would undo the prefetching below.


class AgencyNode(DjangoObjectType):
    short_name = graphene.String(required=True)
    members = graphene.List(
        graphene.NonNull(StaffMember),
        description="Who works here. Staff of this agency's region only: others get an error.",
    )

    class Meta:
        model = Agency
        name = "Agency"
        interfaces = (relay.Node,)
        fields = ("code", "name", "short_name", "email", "phone", "address", "region")

    @classmethod
    def get_node(cls, info, id):
        return Agency.objects.filter(pk=id, active=True).first()

    @staticmethod
    def resolve_members(agency, info):
        try:
            memberships = selectors.agency_members(actor=info.context.actor, agency=agency)
        except DomainError as exc:
            raise query_error(exc) from None
        return [StaffMember(full_name=str(m.user), email=m.user.email, role=m.role) for m in memberships]


class AreaNode(DjangoObjectType):
    level = graphene.Field(AreaLevelEnum, required=True)
    boundary = GenericScalar(required=True, description="GeoJSON Polygon or MultiPolygon (longitude, latitude).")
    bbox = graphene.List(
        graphene.NonNull(graphene.Float), required=True, description="[min lon, min lat, max lon, max lat]"
    )

    class Meta:
        model = Area
        name = "Area"
        interfaces = (relay.Node,)
        fields = ("code", "name", "level", "parent", "region", "boundary")

    @classmethod
    def get_node(cls, info, id):
        return Area.objects.filter(pk=id, active=True).first()

    @staticmethod
    def resolve_bbox(area, info):
        return [area.min_lon, area.min_lat, area.max_lon, area.max_lat]


class RegionNode(DjangoObjectType):
    kind = graphene.Field(RegionKindEnum, required=True)
    timezone = graphene.Field(RegionTimezoneEnum, required=True)
    working_weekdays = graphene.List(
        graphene.NonNull(graphene.Int), required=True, description="ISO weekdays the offices open (1 = Monday)."
    )
    agencies = graphene.List(graphene.NonNull(AgencyNode), required=True)
    areas = graphene.List(graphene.NonNull(AreaNode), required=True, level=AreaLevelEnum())

    class Meta:
        model = Region
        name = "Region"
        interfaces = (relay.Node,)
        fields = ("code", "name", "kind", "slug", "timezone", "triage_agency", "work_start", "work_end")

    @classmethod
    def get_node(cls, info, id):
        return selectors.active_regions().filter(pk=id).first()

    @staticmethod
    def resolve_working_weekdays(region, info):
        return sorted(region.working_weekdays)

    @staticmethod
    def resolve_agencies(region, info):
        if hasattr(region, "active_agencies"):
            return region.active_agencies
        return list(selectors.region_agencies(region))

    @staticmethod
    def resolve_areas(region, info, level=None):
        if hasattr(region, "active_areas"):
            return [a for a in region.active_areas if level is None or a.level == level]
        return list(selectors.region_areas(region, level=level).select_related("parent"))


def with_prefetches(queryset, info, *prefix: str):
    """Load the agencies and areas of many regions in one query each, when the selection asks for them."""
    if selects(info, *prefix, "agencies"):
        queryset = queryset.prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.filter(active=True), to_attr="active_agencies")
        )
    if selects(info, *prefix, "areas"):
        queryset = queryset.prefetch_related(
            Prefetch(
                "areas", queryset=Area.objects.filter(active=True).select_related("parent"), to_attr="active_areas"
            )
        )
    return queryset


class RegionQueries(graphene.ObjectType):
    regions = KeysetConnectionField(
        RegionNode, keyset=selectors.BY_CODE, description="Active regions, by Kemendagri code."
    )
    region = graphene.Field(
        RegionNode, slug_or_code=graphene.String(required=True), description="A region by slug or Kemendagri code."
    )
    area_at = graphene.Field(
        AreaNode,
        region=graphene.String(required=True, description="Slug or Kemendagri code."),
        lat=graphene.Float(required=True),
        lon=graphene.Float(required=True),
        description="The most specific area of the region containing the point; null outside the region.",
    )

    @staticmethod
    def resolve_regions(root, info, **kwargs):
        return with_prefetches(selectors.active_regions(), info, "edges", "node")

    @staticmethod
    def resolve_region(root, info, slug_or_code):
        queryset = with_prefetches(selectors.active_regions(), info)
        return selectors.region_by_slug_or_code(slug_or_code, queryset=queryset)

    @staticmethod
    def resolve_area_at(root, info, region, lat, lon):
        found = selectors.region_by_slug_or_code(region)
        return selectors.area_at(found, lat=lat, lon=lon) if found else None
