"""The Case in the API: one type for complaints and permits, with the timeline each viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

import graphene
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from graphene import relay
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from backend.cases import dashboard, services, survey
from backend.cases.errors import CaseErrorCode, RejectReason
from backend.cases.models import Case, CaseEvent, CaseKind, Priority, Visibility
from backend.cases.workflow import STATUS_LABELS
from backend.complaints import selectors as complaint_selectors
from backend.complaints.models import Complaint, ComplaintCategory
from backend.errors import DomainError
from backend.regions import selectors as region_selectors
from backend.regions.models import Area
from media.models import Attachment, AttachmentKind
from media.storage import url_for
from schema.errors import DomainMutation, as_payload_errors, error_type, query_error
from schema.fields import KeysetConnectionField, node_pk, selected_fields
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

    class Meta:
        model = Attachment
        name = "Photo"
        fields = ("position", "width", "height", "captured_at")

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
        return getattr(case, "permit", None) if case.kind == CaseKind.PERMIT else None

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


# What the selection's fields need besides the case row. The complaint and its category are joined (the complaint
# is always needed: visibility depends on it); the other rows are fetched by primary key in a query of their own,
# because each extra joined table made PostgreSQL plan the queue's page for milliseconds (bench/README.md).
JOINED = {"complaint": ("complaint__category__parent",)}
FETCHED = {
    "region": ("region",),
    "agency": ("agency",),
    "area": ("area",),
    "reporterName": ("resident",),
    "reporterPhone": ("resident",),
    "assigneeName": ("assignee",),
}
# The case columns each field reads; a field not listed here loads the whole row. Always loaded: what the visibility
# rules and the Relay id read. Of the complaint, only its visibility flags unless the selection asks for it.
ALWAYS = ("id", "kind", "region_id", "resident_id", "agency_id")
COLUMNS = {
    "__typename": (),
    "id": (),
    "kind": (),
    "region": (),
    "agency": (),
    "complaint": (),
    "reporterName": (),
    "reporterPhone": (),
    "viewerIsReporter": (),
    "photos": (),
    "timeline": (),
    "events": (),
    "trackingCode": ("tracking_code",),
    "status": ("status",),
    "statusLabel": ("status",),
    "priority": ("priority",),
    "lat": ("lat",),
    "lon": ("lon",),
    "submittedAt": ("submitted_at",),
    "dueAt": ("due_at",),
    "closedAt": ("closed_at",),
    "version": ("version",),
    "area": ("area_id",),
    "assigneeName": ("assignee_id",),
}
COMPLAINT_FLAGS = ("complaint__confidential", "complaint__anonymous", "complaint__published")


@dataclass(frozen=True)
class CaseShape:
    """What a selection needs of a page of cases: joined rows, columns (None: all), rows fetched by key, photos,
    timeline. Equal selections have equal shapes."""

    joined: tuple[str, ...]
    columns: tuple[str, ...] | None
    fetched: tuple[str, ...]
    photos: bool
    timeline: bool

    @property
    def prefetches(self) -> bool:
        return bool(self.fetched or self.photos or self.timeline)


def _columns(fields: set[str], joined: set[str]) -> tuple[str, ...] | None:
    if not fields <= COLUMNS.keys():
        return None
    columns = {*ALWAYS, *(column for field in fields for column in COLUMNS[field])}
    if "complaint__category__parent" in joined:
        for path, model in (
            ("complaint", Complaint),
            ("complaint__category", ComplaintCategory),
            ("complaint__category__parent", ComplaintCategory),
        ):
            columns.update(f"{path}__{f.attname}" for f in model._meta.concrete_fields)
    else:
        columns.update(COMPLAINT_FLAGS)
    return tuple(sorted(columns))


def case_shape(info, *prefix: str) -> CaseShape:
    """The shape of the cases the current field's selection asks for at `prefix` (e.g. "edges", "node")."""
    fields = selected_fields(info, *prefix)
    joined = {"complaint"}.union(*(paths for field, paths in JOINED.items() if field in fields))
    return CaseShape(
        joined=tuple(sorted(joined)),
        columns=_columns(fields, joined),
        fetched=tuple(sorted(set().union(*(paths for field, paths in FETCHED.items() if field in fields)))),
        photos="photos" in fields,
        timeline="timeline" in fields,
    )


def shaped(queryset, shape: CaseShape):
    """Joins, columns and prefetches for a page of cases, just those the shape needs, so the queries do not grow
    with the page and a small selection stays a small query. Area boundaries are never loaded with a case."""
    queryset = queryset.select_related(*shape.joined)
    if shape.columns is not None:
        queryset = queryset.only(*shape.columns)
    for path in shape.fetched:
        if path == "area":
            queryset = queryset.prefetch_related(Prefetch("area", queryset=Area.objects.defer("boundary")))
        else:
            queryset = queryset.prefetch_related(path)
    if shape.photos:
        queryset = queryset.prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(kind=AttachmentKind.PHOTO),
                to_attr="prefetched_photos",
            )
        )
    if shape.timeline:
        queryset = queryset.prefetch_related(
            Prefetch(
                "events",
                queryset=CaseEvent.objects.order_by(*complaint_selectors.TIMELINE.order()),
                to_attr="prefetched_events",
            )
        )
    return queryset


def case_queryset(queryset, info, *prefix: str):
    """`queryset` shaped for the current field's selection at `prefix`."""
    return shaped(queryset, case_shape(info, *prefix))


# --- staff work ----------------------------------------------------------------------------------------------------

CaseError = error_type("CaseError", CaseErrorCode, "working on a case")
RejectReasonEnum = graphene.Enum.from_enum(RejectReason, name="RejectReason")


def case_pk(global_id: str, field: str = "caseId") -> int:
    pk = node_pk(global_id, "Case")
    if pk is None:
        raise DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field=field)
    return pk


class CaseWorkPayload:
    case = graphene.Field(CaseNode)
    errors = graphene.List(graphene.NonNull(CaseError), required=True)


def work_mutation(name: str, doc: str, run, *, payload=None, versioned: bool = True, **arguments):
    """A mutation on one case: `run(actor, case_pk, version, **arguments)` calls one service. `payload` gives the
    `case` and `errors` fields (a domain's error type); `versioned` adds the optimistic `version` argument."""

    def perform(cls, info, case_id, version=None, **values):
        case = run(info.context.actor, case_pk(case_id), version, **values)
        return cls(case=case, errors=[])

    fields = {"case_id": graphene.ID(required=True), **arguments}
    if versioned:
        fields["version"] = graphene.Int(description="The version you saw: a newer one is a CONFLICT.")
    return type(
        name,
        (payload or CaseWorkPayload, DomainMutation),
        {"__doc__": doc, "Arguments": type("Arguments", (), fields), "perform": classmethod(perform)},
    )


AcceptCase = work_mutation(
    "AcceptCase",
    "Staff of the handling agency: accept a routed case.",
    lambda actor, pk, version: services.accept(actor=actor, case_id=pk, expected_version=version),
)
StartCase = work_mutation(
    "StartCase",
    "Staff: start work on an accepted (or reopened) case.",
    lambda actor, pk, version: services.start_work(actor=actor, case_id=pk, expected_version=version),
)
ResolveCase = work_mutation(
    "ResolveCase",
    "Staff: the work is done; the note tells the resident what was done.",
    lambda actor, pk, version, note: services.resolve(actor=actor, case_id=pk, note=note, expected_version=version),
    note=graphene.String(required=True),
)
RejectCase = work_mutation(
    "RejectCase",
    "Staff: refuse the case with a reason and a note for the resident.",
    lambda actor, pk, version, reason, note: services.reject(
        actor=actor, case_id=pk, reason=getattr(reason, "value", reason), note=note, expected_version=version
    ),
    reason=RejectReasonEnum(required=True),
    note=graphene.String(required=True),
)
ClaimCase = work_mutation(
    "ClaimCase",
    "Staff of the handling agency: take the case (you become its assignee).",
    lambda actor, pk, version: services.claim(actor=actor, case_id=pk, expected_version=version),
)
AssignCase = work_mutation(
    "AssignCase",
    "Staff: hand the case to a colleague of the handling agency.",
    lambda actor, pk, version, assignee_id: services.assign(
        actor=actor, case_id=pk, assignee_id=(node_pk(assignee_id, "User") or 0), expected_version=version
    ),
    assignee_id=graphene.ID(required=True, description="A User id."),
)
AddCaseNote = work_mutation(
    "AddCaseNote",
    "Staff of the region: an internal note on the timeline (never shown to residents).",
    lambda actor, pk, version, text: services.add_note(actor=actor, case_id=pk, text=text, expected_version=version),
    text=graphene.String(required=True),
)
ReplyToCase = work_mutation(
    "ReplyToCase",
    "Staff of the handling agency: a public reply on the timeline; the reporters are notified.",
    lambda actor, pk, version, text: services.reply(actor=actor, case_id=pk, text=text, expected_version=version),
    text=graphene.String(required=True),
)


class CaseMutations(graphene.ObjectType):
    accept_case = AcceptCase.Field()
    start_case = StartCase.Field()
    resolve_case = ResolveCase.Field()
    reject_case = RejectCase.Field()
    claim_case = ClaimCase.Field()
    assign_case = AssignCase.Field()
    add_case_note = AddCaseNote.Field()
    reply_to_case = ReplyToCase.Field()


RequestInformation = work_mutation(
    "RequestInformation",
    "Staff: ask the reporter for what is missing. The SLA clock stops until they answer.",
    lambda actor, pk, version, question: services.request_info(
        actor=actor, case_id=pk, question=question, expected_version=version
    ),
    question=graphene.String(required=True),
)
ProvideInformation = work_mutation(
    "ProvideInformation",
    "The reporter answers a request for information; the clock runs again with the time it had left.",
    lambda actor, pk, version, answer: services.provide_info(
        actor=actor, case_id=pk, answer=answer, expected_version=version
    ),
    answer=graphene.String(required=True),
)
TransferCase = work_mutation(
    "TransferCase",
    "Staff: offer the case to another agency of the region (disposisi); it accepts or declines.",
    lambda actor, pk, version, agency_id, reason: services.transfer(
        actor=actor, case_id=pk, agency_id=(node_pk(agency_id, "Agency") or 0), reason=reason, expected_version=version
    ),
    agency_id=graphene.ID(required=True, description="An Agency id."),
    reason=graphene.String(required=True),
)
AcceptTransfer = work_mutation(
    "AcceptTransfer",
    "Staff of the agency a case is offered to: take it over.",
    lambda actor, pk, version: services.accept_transfer(actor=actor, case_id=pk, expected_version=version),
)
DeclineTransfer = work_mutation(
    "DeclineTransfer",
    "Staff of the agency a case is offered to: refuse it, with a reason; it goes back.",
    lambda actor, pk, version, reason: services.decline_transfer(
        actor=actor, case_id=pk, reason=reason, expected_version=version
    ),
    reason=graphene.String(required=True),
)
ForwardCase = work_mutation(
    "ForwardCase",
    "Region admins: hand the case to a body outside the region's government (PLN, PDAM…); this ends it here.",
    lambda actor, pk, version, body, reference=None: services.forward(
        actor=actor, case_id=pk, body=body, reference=reference or "", expected_version=version
    ),
    body=graphene.String(required=True),
    reference=graphene.String(),
)


class DisposisiMutations(graphene.ObjectType):
    request_information = RequestInformation.Field()
    provide_information = ProvideInformation.Field()
    transfer_case = TransferCase.Field()
    accept_transfer = AcceptTransfer.Field()
    decline_transfer = DeclineTransfer.Field()
    forward_case = ForwardCase.Field()


# --- the SKM survey and its index ----------------------------------------------------------------------------------


class AnswerSurvey(DomainMutation):
    """The reporter of a closed case answers the SKM survey: nine elements, each 1 (poor) to 4 (very good), once."""

    class Arguments:
        case_id = graphene.ID(required=True)
        answers = graphene.List(graphene.NonNull(graphene.Int), required=True)
        comment = graphene.String()

    ok = graphene.Boolean()
    errors = graphene.List(graphene.NonNull(CaseError), required=True)

    @classmethod
    def perform(cls, info, case_id, answers, comment=""):
        survey.answer_survey(actor=info.context.actor, case_id=case_pk(case_id), answers=answers, comment=comment or "")
        return cls(ok=True, errors=[])


class ServiceIndexType(graphene.ObjectType):
    class Meta:
        name = "ServiceIndex"
        description = "The IKM (PermenPANRB 14/2017) over the survey responses asked for."

    responses = graphene.Int(required=True)
    element_means = graphene.List(graphene.Float, required=True, description="Mean (1-4) of each of the nine elements.")
    element_names = graphene.List(graphene.NonNull(graphene.String), required=True)
    ikm = graphene.Float(description="25-100; null without responses.")
    grade = graphene.String(description="A, B, C or D.")


class SurveyQueries(graphene.ObjectType):
    service_index = graphene.Field(
        ServiceIndexType,
        region=graphene.String(required=True),
        agency=graphene.ID(description="An Agency id; none: the whole region."),
        since=graphene.DateTime(),
        until=graphene.DateTime(),
        description="Staff of the region: the satisfaction index over a period.",
    )

    @staticmethod
    def resolve_service_index(root, info, region, agency=None, since=None, until=None):
        found = region_selectors.region_by_slug_or_code(region)
        if found is None or not info.context.actor.works_in_region(found.pk):
            raise query_error(DomainError(CaseErrorCode.NOT_FOUND, _("No such region, or not yours.")))
        index = survey.service_index(
            region_id=found.pk, agency_id=(node_pk(agency, "Agency") or 0) if agency else None, since=since, until=until
        )
        return ServiceIndexType(
            responses=index.responses,
            element_means=[float(m) if m is not None else None for m in index.element_means],
            element_names=[str(name) for name in survey.ELEMENTS],
            ikm=float(index.ikm) if index.ikm is not None else None,
            grade=index.grade,
        )


class SurveyMutations(graphene.ObjectType):
    answer_survey = AnswerSurvey.Field()


# --- dashboards ----------------------------------------------------------------------------------------------------


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
        found = region_selectors.region_by_slug_or_code(region)
        if found is None or not info.context.actor.works_in_region(found.pk):
            raise query_error(DomainError(CaseErrorCode.NOT_FOUND, _("No such region, or not yours.")))
        agency_obj = found.agencies.filter(pk=(node_pk(agency, "Agency") or 0)).first() if agency else None
        if agency and agency_obj is None:
            raise query_error(DomainError(CaseErrorCode.NOT_FOUND, _("No such agency in this region.")))
        board = dashboard.dashboard(region=found, agency=agency_obj, since=since, until=until)
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


# --- bulk ----------------------------------------------------------------------------------------------------------

BulkActionEnum = graphene.Enum(
    "BulkAction", [("ACCEPT", "accept"), ("START", "start"), ("CLAIM", "claim"), ("ASSIGN", "assign")]
)


class BulkCaseResult(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    case = graphene.Field(CaseNode, description="Null when this case was refused.")
    errors = graphene.List(graphene.NonNull(CaseError), required=True)


class BulkCaseAction(DomainMutation):
    """Staff: one action on up to 100 cases. Each case succeeds or fails on its own, with its own errors."""

    class Arguments:
        action = BulkActionEnum(required=True)
        case_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
        assignee_id = graphene.ID(description="For ASSIGN: a User id.")

    results = graphene.List(graphene.NonNull(BulkCaseResult))
    errors = graphene.List(graphene.NonNull(CaseError), required=True)

    @classmethod
    def perform(cls, info, action, case_ids, assignee_id=None):
        ids = {}
        for global_id in case_ids:
            try:
                ids[case_pk(global_id)] = global_id
            except DomainError:
                ids[-len(ids) - 1] = global_id  # unreadable: reported as not found below
        outcomes = services.bulk(
            actor=info.context.actor,
            action=getattr(action, "value", action),
            case_ids=list(ids),
            assignee_id=(node_pk(assignee_id, "User") or 0) if assignee_id else 0,
        )
        return cls(
            results=[
                BulkCaseResult(
                    case_id=ids[o.case_id], case=o.case, errors=as_payload_errors(o.error) if o.error else []
                )
                for o in outcomes
            ],
            errors=[],
        )


class BulkMutations(graphene.ObjectType):
    bulk_case_action = BulkCaseAction.Field()
