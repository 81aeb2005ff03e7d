"""What a selection of cases needs loaded: joins, columns and prefetches, so a small selection stays a small query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from backend.cases.models import CaseEvent
from backend.complaints import selectors as complaint_selectors
from backend.complaints.models import Complaint, ComplaintCategory
from backend.regions.models import Area
from media.models import Attachment, AttachmentKind
from schema.fields import selected_fields

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
