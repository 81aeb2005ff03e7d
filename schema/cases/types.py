"""The Case type, with the photos and the timeline each viewer may see."""

from __future__ import annotations

import graphene
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from backend.cases.models import Case, CaseEvent, CaseKind, Priority, Visibility
from backend.cases.services import RESULT_PHOTO
from backend.cases.workflow import STATUS_LABELS
from backend.complaints import selectors as complaint_selectors
from backend.permits import selectors as permit_selectors
from media.models import Attachment, AttachmentKind
from media.storage import url_for
from schema.fields import KeysetConnectionField
from schema.regions import AgencyNode, AreaNode, RegionNode

CaseKindEnum = graphene.Enum.from_enum(CaseKind, name="CaseKind")
PriorityEnum = graphene.Enum.from_enum(Priority, name="Priority")
VisibilityEnum = graphene.Enum.from_enum(Visibility, name="Visibility")


class CaseEventType(DjangoObjectType):
    at = graphene.DateTime(required=True)
    visibility = graphene.Field(VisibilityEnum, required=True)
    payload = GenericScalar(required=True)
    by_staff = graphene.Boolean(
        required=True, description="Done by staff (true), by the resident or the system (false)."
    )

    class Meta:
        model = CaseEvent
        name = "CaseEvent"
        fields = ("seq", "type", "visibility", "payload")
        use_connection = True

    @staticmethod
    def resolve_at(event, info):
        return event.created_at

    @staticmethod
    def resolve_by_staff(event, info):
        return event.actor_id is not None and event.actor_id != event.case.resident_id


class PhotoType(DjangoObjectType):
    url = graphene.String(required=True, description="The photo (long side at most 2560 px); the link expires.")
    large_url = graphene.String(required=True, description="1024 px thumbnail.")
    small_url = graphene.String(required=True, description="320 px thumbnail.")
    latitude = graphene.Float(description="Where the camera says it was taken: staff only.")
    longitude = graphene.Float(description="Where the camera says it was taken: staff only.")
    of_result = graphene.Boolean(
        required=True, description="Taken by staff to show the work done (resolveCase's photo), not by a reporter."
    )

    class Meta:
        model = Attachment
        name = "Photo"
        fields = ("position", "width", "height", "captured_at")

    @staticmethod
    def resolve_of_result(photo, info):
        return photo.requirement == RESULT_PHOTO

    @staticmethod
    def resolve_url(photo, info):
        return info.context.request.build_absolute_uri(url_for(photo.storage_key))

    @staticmethod
    def resolve_large_url(photo, info):
        return info.context.request.build_absolute_uri(url_for(photo.large_key))

    @staticmethod
    def resolve_small_url(photo, info):
        return info.context.request.build_absolute_uri(url_for(photo.small_key))

    @staticmethod
    def resolve_latitude(photo, info):
        return photo.gps_lat if info.context.actor.works_in_region(photo.case.region_id) else None

    @staticmethod
    def resolve_longitude(photo, info):
        return photo.gps_lon if info.context.actor.works_in_region(photo.case.region_id) else None


class CaseNode(DjangoObjectType):
    kind = graphene.Field(CaseKindEnum, required=True)
    priority = graphene.Field(PriorityEnum, required=True)
    region = graphene.Field(RegionNode, required=True)
    agency = graphene.Field(AgencyNode, description="The agency handling the case (null until routed).")
    area = graphene.Field(AreaNode)
    status_label = graphene.String(required=True, description="The status in words, in the request's language.")
    reporter_name = graphene.String(description="Null when hidden from you (anonymous reports, other people's cases).")
    reporter_phone = graphene.String(
        description="For staff of the region, unless the report is anonymous (then the handling agency only)."
    )
    viewer_is_reporter = graphene.Boolean(required=True)
    complaint = graphene.Field("schema.complaints.ComplaintDetail", description="The complaint's details (complaints).")
    permit = graphene.Field("schema.permits.PermitApplicationNode", description="The application (permits).")
    photos = graphene.List(
        graphene.NonNull(PhotoType),
        required=True,
        description="Empty for the public until staff approve the complaint for public view.",
    )
    assignee_name = graphene.String(description="Who works on the case: staff of the region only.")
    timeline = graphene.List(
        graphene.NonNull(CaseEventType), required=True, description="Public events; staff of the region see all."
    )
    events = KeysetConnectionField(
        CaseEventType,
        keyset=complaint_selectors.TIMELINE,
        scope=lambda case: case.pk,
        description="The timeline page by page, oldest first (`timeline` gives it whole): the `endCursor` of the "
        "last page read gives what was added since.",
    )

    class Meta:
        model = Case
        name = "Case"
        interfaces = (relay.Node,)
        fields = (
            "tracking_code",
            "status",
            "lat",
            "lon",
            "submitted_at",
            "due_at",
            "closed_at",
            "version",
        )

    @classmethod
    def get_node(cls, info, id):
        case = Case.objects.filter(pk=id).select_related("complaint", "region", "agency", "area").first()
        if case is None or not complaint_selectors.can_view(info.context.actor, case):
            return None
        return case

    @staticmethod
    def resolve_assignee_name(case, info):
        if case.assignee_id is None or not info.context.actor.works_in_region(case.region_id):
            return None
        return str(case.assignee)

    @staticmethod
    def resolve_status_label(case, info):
        return str(STATUS_LABELS.get(case.status, case.status))

    @staticmethod
    def resolve_reporter_name(case, info):
        if not complaint_selectors.shows_reporter(info.context.actor, case):
            return None
        return case.resident.full_name or None

    @staticmethod
    def resolve_complaint(case, info):
        return getattr(case, "complaint", None) if case.kind == CaseKind.COMPLAINT else None

    @staticmethod
    def resolve_permit(case, info):
        application = getattr(case, "permit", None) if case.kind == CaseKind.PERMIT else None
        if application is None or not permit_selectors.can_see(info.context.actor, application):
            return None
        return application

    @staticmethod
    def resolve_reporter_phone(case, info):
        actor = info.context.actor
        if not actor.works_in_region(case.region_id) or not complaint_selectors.shows_reporter(actor, case):
            return None
        return case.resident.phone

    @staticmethod
    def resolve_viewer_is_reporter(case, info):
        user = info.context.user
        return user is not None and case.resident_id == user.pk

    @staticmethod
    def resolve_photos(case, info):
        if case.kind == CaseKind.COMPLAINT and not complaint_selectors.shows_photos(info.context.actor, case):
            return []
        photos = getattr(case, "prefetched_photos", None)
        return photos if photos is not None else list(case.attachments.filter(kind=AttachmentKind.PHOTO))

    @staticmethod
    def resolve_timeline(case, info):
        actor, events = info.context.actor, getattr(case, "prefetched_events", None)
        if events is None:
            return complaint_selectors.timeline(actor, case)
        return [event for event in events if complaint_selectors.shows_event(actor, case, event.visibility)]

    @staticmethod
    def resolve_events(case, info, **page):
        return complaint_selectors.timeline(info.context.actor, case)
