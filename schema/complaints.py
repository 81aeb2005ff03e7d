"""Complaints in the API: categories, submit, duplicates, the resident's views and actions, the public feed,
staff moderation and the routing preview for admins."""

from __future__ import annotations

import graphene
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from backend.cases.models import Case
from backend.complaints import selectors, services
from backend.complaints.errors import ComplaintErrorCode
from backend.complaints.models import Complaint, ComplaintCategory, SlaUnit
from backend.complaints.routing import route_complaint
from backend.errors import DomainError
from backend.forms import localized
from backend.regions import selectors as region_selectors
from backend.regions.models import Area
from schema.cases.shape import case_queryset, case_shape, shaped
from schema.cases.types import CaseNode
from schema.errors import DomainMutation, error_type, query_error
from schema.fields import KeysetConnectionField, node_pk, parse_pk
from schema.regions import AgencyNode, AreaNode
from schema.uploads import Upload

ComplaintError = error_type("ComplaintError", ComplaintErrorCode, "a complaint")
SlaUnitEnum = graphene.Enum.from_enum(SlaUnit, name="SlaUnit")


class ComplaintCategoryType(DjangoObjectType):
    name = graphene.String(required=True, description="In the request's language.")
    sla_unit = graphene.Field(SlaUnitEnum, required=True)
    extra_schema = GenericScalar(
        required=True,
        description="JSON Schema of the extra answers ({} when none); titles in the request's language.",
    )
    children = graphene.List(graphene.NonNull(lambda: ComplaintCategoryType), required=True)

    class Meta:
        model = ComplaintCategory
        name = "ComplaintCategory"
        fields = ("id", "code", "name_id", "name_en", "icon", "sla_value", "sla_unit", "extra_schema")

    @staticmethod
    def resolve_children(category, info):
        return [c for c in getattr(category, "active_children", ()) if c.active]

    @staticmethod
    def resolve_extra_schema(category, info):
        return localized(category.extra_schema, get_language())


class ComplaintDetail(DjangoObjectType):
    category = graphene.Field(ComplaintCategoryType, required=True)
    extra = GenericScalar(required=True)

    class Meta:
        model = Complaint
        name = "ComplaintDetail"
        fields = ("category", "description", "address", "anonymous", "confidential", "extra", "published", "rating")


class NearbyComplaint(graphene.ObjectType):
    case = graphene.Field(CaseNode, required=True)
    distance_m = graphene.Float(required=True, description="Metres from the point asked about.")


class RuleType(graphene.ObjectType):
    class Meta:
        name = "RoutingRule"

    id = graphene.ID(required=True)
    order = graphene.Int(required=True)
    note = graphene.String(required=True)


class RoutingPreview(graphene.ObjectType):
    agency = graphene.Field(AgencyNode)
    rule = graphene.Field(RuleType, description="Null: no rule matched, so the triage agency receives it.")
    area = graphene.Field(AreaNode)


def _case_pk(global_id: str, field: str = "caseId") -> int:
    pk = node_pk(global_id, "Case")
    if pk is None:
        raise DomainError(ComplaintErrorCode.NOT_FOUND, _("No such complaint."), field=field)
    return pk


def _category_pk(value: str) -> int:
    pk = parse_pk(value)
    if pk is None:
        raise DomainError(ComplaintErrorCode.UNKNOWN_CATEGORY, _("Choose a category of this region."), field="category")
    return pk


class ComplaintQueries(graphene.ObjectType):
    complaint_categories = graphene.List(
        graphene.NonNull(ComplaintCategoryType),
        required=True,
        region=graphene.String(required=True, description="Slug or Kemendagri code."),
        description="The region's categories as groups with their children (top level only).",
    )
    nearby_complaints = graphene.List(
        graphene.NonNull(NearbyComplaint),
        required=True,
        region=graphene.String(required=True),
        category=graphene.ID(required=True),
        lat=graphene.Float(required=True),
        lon=graphene.Float(required=True),
        description="Open complaints of the category within ~100 m (last 30 days): join one instead of filing anew.",
    )
    my_cases = KeysetConnectionField(
        CaseNode,
        keyset=selectors.MY_CASES,
        description="Your complaints, filed or followed as co-reporter, newest first.",
    )
    case_by_tracking_code = graphene.Field(
        CaseNode, region=graphene.String(required=True), tracking_code=graphene.String(required=True)
    )
    public_complaints = KeysetConnectionField(
        CaseNode,
        keyset=selectors.PUBLIC_FEED,
        region=graphene.String(required=True),
        area=graphene.ID(),
        category=graphene.ID(),
        bbox=graphene.List(graphene.NonNull(graphene.Float), description="[west, south, east, north]"),
        description="Open, non-confidential complaints of a region; reporters are never shown here.",
    )
    routing_preview = graphene.Field(
        RoutingPreview,
        region=graphene.String(required=True),
        category=graphene.ID(required=True),
        lat=graphene.Float(required=True),
        lon=graphene.Float(required=True),
        description="Region admins: which agency a complaint here would reach, and by which rule.",
    )

    @staticmethod
    def resolve_complaint_categories(root, info, region):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None:
            return []
        categories = list(selectors.region_categories(found))
        by_parent: dict[int | None, list] = {}
        for category in categories:
            by_parent.setdefault(category.parent_id, []).append(category)
        for category in categories:
            category.active_children = by_parent.get(category.pk, [])
        return by_parent.get(None, [])

    @staticmethod
    def resolve_nearby_complaints(root, info, region, category, lat, lon):
        found = region_selectors.region_by_slug_or_code(region)
        category_obj = ComplaintCategory.objects.filter(pk=parse_pk(category), region=found).first() if found else None
        if category_obj is None:
            return []
        return [
            NearbyComplaint(case=n.case, distance_m=round(n.distance_m, 1))
            for n in selectors.nearby_open_complaints(region=found, category=category_obj, lat=lat, lon=lon)
        ]

    @staticmethod
    def resolve_my_cases(root, info, **kwargs):
        actor = info.context.actor
        if actor.user is None:
            return Case.objects.none()
        return case_queryset(selectors.my_cases(actor), info, "edges", "node")

    @staticmethod
    def resolve_case_by_tracking_code(root, info, region, tracking_code):
        field, region, code = selectors.tracking_code_key(region, tracking_code)
        shape = case_shape(info)
        if shape.prefetches or shape.joined != ("complaint",):  # the complaint's details, photos, the timeline…
            case = shaped(selectors.by_tracking_code(field, region, code), shape).first()
        else:  # the commonest look-up (an app polling a status): one named statement
            case = selectors.case_by_tracking_code(field, region, code)
        if case is None or not selectors.can_view(info.context.actor, case):
            return None
        return case

    @staticmethod
    def resolve_public_complaints(root, info, region, area=None, category=None, bbox=None, **kwargs):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None:
            return Case.objects.none()
        area_obj = Area.objects.filter(pk=node_pk(area, "Area"), region=found).first() if area else None
        if area and area_obj is None:  # a filter that cannot apply is an error, never "no filter"
            raise query_error(DomainError(ComplaintErrorCode.INVALID, _("There is no such area in this region.")))
        category_obj = (
            ComplaintCategory.objects.filter(pk=parse_pk(category), region=found).first() if category else None
        )
        if category and category_obj is None:
            raise query_error(DomainError(ComplaintErrorCode.UNKNOWN_CATEGORY, _("Choose a category of this region.")))
        if bbox is not None and len(bbox) != 4:
            raise query_error(DomainError(ComplaintErrorCode.INVALID, _("bbox is [west, south, east, north].")))
        cases = selectors.public_feed(
            region=found, area=area_obj, category=category_obj, bbox=tuple(bbox) if bbox else None
        )
        return case_queryset(cases, info, "edges", "node")

    @staticmethod
    def resolve_routing_preview(root, info, region, category, lat, lon):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None or not info.context.actor.administers(found.pk):
            raise query_error(DomainError(ComplaintErrorCode.FORBIDDEN, _("Only admins of this region may do this.")))
        category_obj = (
            ComplaintCategory.objects.filter(pk=parse_pk(category), region=found).select_related("parent").first()
        )
        if category_obj is None:
            raise query_error(DomainError(ComplaintErrorCode.UNKNOWN_CATEGORY, _("Choose a category of this region.")))
        area = region_selectors.area_at(found, lat=lat, lon=lon)
        decision = route_complaint(region=found, category=category_obj, area=area)
        rule = decision.rule
        return RoutingPreview(
            agency=decision.agency,
            area=area,
            rule=RuleType(id=rule.pk, order=rule.order, note=rule.note) if rule else None,
        )


class ComplaintPayload:
    case = graphene.Field(CaseNode)
    Error = ComplaintError


class SubmitComplaintInput(graphene.InputObjectType):
    region = graphene.String(required=True, description="Slug or Kemendagri code.")
    category = graphene.ID(required=True, description="A category id from complaintCategories (not a group).")
    description = graphene.String(required=True)
    lat = graphene.Float(required=True)
    lon = graphene.Float(required=True)
    address = graphene.String()
    anonymous = graphene.Boolean(
        default_value=False, description="Hide your name from everyone but the handling agency."
    )
    confidential = graphene.Boolean(default_value=False, description="Keep the complaint out of public views.")
    extra = GenericScalar(description="Answers to the category's extra fields.")
    idempotency_key = graphene.String(description="Your key for this submission: a retry returns the same case.")
    photos = graphene.List(
        graphene.NonNull(Upload), description="Up to 5 JPEG, PNG or WebP photos (multipart request)."
    )


class SubmitComplaint(ComplaintPayload, DomainMutation):
    """File a complaint. It is routed to an agency at once; `possibleDuplicates` lists open complaints nearby."""

    class Arguments:
        input = SubmitComplaintInput(required=True)

    created = graphene.Boolean(description="False when the idempotency key returned an earlier submission.")
    possible_duplicates = graphene.List(
        graphene.NonNull(NearbyComplaint), description="Open complaints of the same category within ~100 m."
    )

    @classmethod
    def perform(cls, info, input):
        result = services.submit_complaint(
            actor=info.context.actor,
            region_slug_or_code=input.region,
            category_id=_category_pk(input.category),
            description=input.description,
            lat=input.lat,
            lon=input.lon,
            address=input.address or "",
            anonymous=bool(input.anonymous),
            confidential=bool(input.confidential),
            extra=input.extra,
            idempotency_key=input.idempotency_key or "",
            photos=input.photos or (),
        )
        return cls(case=result.case, created=result.created, errors=[])

    @staticmethod
    def resolve_possible_duplicates(payload, info):
        """Looked up only when asked for, and only for a case this request created."""
        case = payload.case
        if case is None or not payload.created:
            return None if case is None else []
        nearby = selectors.nearby_open_complaints(
            region=case.region,
            category=case.complaint.category,
            lat=case.lat,
            lon=case.lon,
            exclude_case_id=case.pk,
        )
        return [NearbyComplaint(case=n.case, distance_m=round(n.distance_m, 1)) for n in nearby]


class JoinComplaint(ComplaintPayload, DomainMutation):
    """Follow an open complaint as a co-reporter: you see it and are told of its progress."""

    class Arguments:
        case_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, case_id):
        return cls(case=services.join_as_co_reporter(actor=info.context.actor, case_id=_case_pk(case_id)), errors=[])


class ConfirmResolution(ComplaintPayload, DomainMutation):
    """The reporter agrees the problem is solved; the complaint closes."""

    class Arguments:
        case_id = graphene.ID(required=True)
        version = graphene.Int(description="The version you saw: a newer one is a CONFLICT.")

    @classmethod
    def perform(cls, info, case_id, version=None):
        case = services.confirm_resolution(
            actor=info.context.actor, case_id=_case_pk(case_id), expected_version=version
        )
        return cls(case=case, errors=[])


class ReopenComplaint(ComplaintPayload, DomainMutation):
    """The reporter is not satisfied with the resolution (once; after that the agency decides)."""

    class Arguments:
        case_id = graphene.ID(required=True)
        reason = graphene.String(required=True)
        version = graphene.Int()

    @classmethod
    def perform(cls, info, case_id, reason, version=None):
        case = services.reopen(
            actor=info.context.actor, case_id=_case_pk(case_id), reason=reason, expected_version=version
        )
        return cls(case=case, errors=[])


class RateComplaint(ComplaintPayload, DomainMutation):
    """Rate how a closed complaint was handled, 1 to 5, once."""

    class Arguments:
        case_id = graphene.ID(required=True)
        rating = graphene.Int(required=True)
        comment = graphene.String()

    @classmethod
    def perform(cls, info, case_id, rating, comment=""):
        case = services.rate(actor=info.context.actor, case_id=_case_pk(case_id), rating=rating, comment=comment or "")
        return cls(case=case, errors=[])


class MarkDuplicate(ComplaintPayload, DomainMutation):
    """Staff: close a complaint as a duplicate of another; its reporters follow the original."""

    class Arguments:
        case_id = graphene.ID(required=True)
        original_id = graphene.ID(required=True)
        version = graphene.Int()

    @classmethod
    def perform(cls, info, case_id, original_id, version=None):
        case = services.mark_duplicate(
            actor=info.context.actor,
            case_id=_case_pk(case_id),
            original_id=_case_pk(original_id, "originalId"),
            expected_version=version,
        )
        return cls(case=case, errors=[])


class SetComplaintPublished(ComplaintPayload, DomainMutation):
    """Staff moderation: show (or hide) a complaint's photos in the public feed."""

    class Arguments:
        case_id = graphene.ID(required=True)
        published = graphene.Boolean(required=True)

    @classmethod
    def perform(cls, info, case_id, published):
        case = services.set_published(actor=info.context.actor, case_id=_case_pk(case_id), published=published)
        return cls(case=case, errors=[])


class ComplaintMutations(graphene.ObjectType):
    submit_complaint = SubmitComplaint.Field()
    join_complaint = JoinComplaint.Field()
    confirm_resolution = ConfirmResolution.Field()
    reopen_complaint = ReopenComplaint.Field()
    rate_complaint = RateComplaint.Field()
    mark_duplicate = MarkDuplicate.Field()
    set_complaint_published = SetComplaintPublished.Field()
