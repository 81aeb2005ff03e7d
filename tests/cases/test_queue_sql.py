"""The staff queue's page and totals are explicit statements (backend.work.queue): they must give what the same queue
written with the ORM gives (below: the definition the statements replaced, kept here as the reference) for every
role, filter and order, on PostgreSQL and SQLite."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.db.models import Case as When_
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.accounts.actor import Actor
from backend.cases.models import Case, CaseEvent, Priority, Visibility
from backend.cases.workflow import clock_stopped
from backend.complaints.models import ComplaintCategory
from backend.regions.models import Area
from backend.work import queue
from backend.work.queue import SlaState
from media.models import Attachment, AttachmentKind
from tests.helpers import SUBMIT, complaint_input, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(gql, resident, category, places, demo):
    gql.sign_in_as(resident)
    codes = []
    for code, place in (
        ("jalan-rusak", "lais"),
        ("jalan-rusak", "balai_agung"),
        ("lampu-jalan", "lais"),
        ("sampah", "lais"),
    ):
        found = gql(SUBMIT, {"input": complaint_input(category(code), *places[place])})["submitComplaint"]
        codes.append(found["case"]["trackingCode"])
    now = timezone.now()
    for code, due, priority in zip(
        codes,
        (now - timedelta(hours=1), now + timedelta(hours=3), None, now),
        (Priority.URGENT, Priority.NORMAL, Priority.HIGH, Priority.LOW),
        strict=True,
    ):
        Case.objects.filter(tracking_code=code).update(due_at=due, priority=priority)
    return codes


def filters_to_try(demo):
    muba = demo["muba"]
    road = ComplaintCategory.objects.get(region=muba, code="jalan-rusak")
    lais = Area.objects.get(region=muba, code="16.06.02")
    yield {}
    for order in queue.QueueOrder:
        yield {"order": order}
    yield {"statuses": ("routed",)}
    yield {"kind": "complaint"}
    yield {"category_id": road.pk}
    yield {"category_id": road.parent_id} if road.parent_id else {"category_id": road.pk}
    yield {"area_id": lais.pk}
    yield {"assignee": queue.AssigneeFilter.ME}
    yield {"assignee": queue.AssigneeFilter.UNASSIGNED}
    for sla in queue.SlaState:
        yield {"sla": sla}
    now = timezone.now()
    yield {"created_from": now - timedelta(days=1), "created_to": now + timedelta(days=1)}
    yield {"due_from": now - timedelta(minutes=30), "due_to": now + timedelta(hours=5)}
    yield {"text": "berlubang"}
    yield {"text": "100%_"}
    yield {"permit_type": "pbg"}


# --- the reference: the queue as the ORM writes it -----------------------------------------------------------------

PRIORITY_RANK = When_(
    *(When(priority=priority, then=Value(rank)) for priority, rank in queue.PRIORITY_RANKS.items()),
    default=Value(3),
    output_field=IntegerField(),
)


def sla_state(now, soon):
    return When_(
        When(status__in=clock_stopped(), then=Value(SlaState.DONE.value)),
        When(sla_paused_at__isnull=False, then=Value(SlaState.PAUSED.value)),
        When(due_at__lt=now, then=Value(SlaState.OVERDUE.value)),
        When(due_at__lt=soon, then=Value(SlaState.DUE_SOON.value)),
        default=Value(SlaState.ON_TIME.value),
        output_field=CharField(),
    )


def orm_queue(actor, filters, now):
    scope = queue.scope_of(actor, incoming=filters.incoming)
    soon = now + timedelta(hours=filters.due_within_hours)
    field, ids, user_id = scope.field, scope.ids, actor.user.pk
    photos = (
        Attachment.objects.filter(case=OuterRef("pk"), kind=AttachmentKind.PHOTO)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest_public = CaseEvent.objects.filter(case=OuterRef("pk"), visibility=Visibility.PUBLIC).order_by("-seq")
    cases = Case.objects.filter(**{f"{field}__in": ids}) if field else Case.objects.all()
    cases = cases.annotate(
        sla_state=sla_state(now, soon),
        priority_rank=PRIORITY_RANK,
        photo_count=Coalesce(Subquery(photos, output_field=IntegerField()), 0),
        latest_public_type=Subquery(latest_public.values("type")[:1]),
        latest_public_at=Subquery(latest_public.values("created_at")[:1]),
    )
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.category_id is not None:
        cases = cases.filter(
            Q(complaint__category_id=filters.category_id) | Q(complaint__category__parent_id=filters.category_id)
        )
    if filters.permit_type:
        cases = cases.filter(permit__type_version__permit_type__code=filters.permit_type)
    if filters.area_id is not None:
        cases = cases.filter(Q(area_id=filters.area_id) | Q(area__parent_id=filters.area_id))
    if filters.assignee == queue.AssigneeFilter.ME:
        cases = cases.filter(assignee_id=user_id)
    elif filters.assignee == queue.AssigneeFilter.UNASSIGNED:
        cases = cases.filter(assignee__isnull=True)
    if filters.sla is not None:
        cases = cases.filter(sla_state=filters.sla.value)
    for lookup, value in (
        ("submitted_at__gte", filters.created_from),
        ("submitted_at__lt", filters.created_to),
        ("due_at__gte", filters.due_from),
        ("due_at__lt", filters.due_to),
    ):
        if value is not None:
            cases = cases.filter(**{lookup: value})
    text = filters.text.strip()
    if text:
        cases = cases.filter(Q(tracking_code__iexact=text) | Q(complaint__description__icontains=text))
    return cases.order_by(*queue.ORDERS[filters.order].order())


def orm_totals(cases):
    cases = cases.order_by()
    return cases.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(sla_state=SlaState.OVERDUE.value)),
        due_soon=Count("pk", filter=Q(sla_state=SlaState.DUE_SOON.value)),
        on_time=Count("pk", filter=Q(sla_state=SlaState.ON_TIME.value)),
        paused=Count("pk", filter=Q(sla_state=SlaState.PAUSED.value)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
    )


# The row's own values, read under the same names as the ORM's (the rest are names looked up by key).
SAME_NAME = {f.name for f in dataclasses.fields(queue.QueueRow)}


@pytest.mark.parametrize("who", ["admin.muba", "pupr.staf", "pupr.kabid"])
def test_the_page_is_the_orms_queue(cases, demo, who):
    actor = Actor.for_user(staff_user(who))
    now = timezone.now()
    for values in filters_to_try(demo):
        filters = queue.QueueFilter(**values)
        reference = orm_queue(actor, filters, now)
        expected = list(reference.values_list(*queue.ROW_VALUES))
        rows = queue.queue_page(actor=actor, filters=filters, page=queue.PageRequest(100), now=now)
        assert queue.queue_totals(actor=actor, filters=filters, now=now) == orm_totals(reference), values
        assert [row.id for row in rows] == [row[0] for row in expected], values
        compared = [name for name in queue.ROW_VALUES if name in SAME_NAME]
        for row, want in zip(rows, expected, strict=True):
            reference_values = dict(zip(queue.ROW_VALUES, want, strict=True))
            assert {name: getattr(row, name) for name in compared} == {
                name: reference_values[name] for name in compared
            }, values
            assert row.category_code == reference_values["complaint__category__code"], values


def test_the_statement_names_the_values_the_models_use():
    assert AttachmentKind.PHOTO.value == "photo" and Visibility.PUBLIC.value == "public"
    assert set(queue.PAGE_COLUMNS) == set(queue.ROW_VALUES)
