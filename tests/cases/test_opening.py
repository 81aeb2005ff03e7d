"""Opening a case (backend.cases.opening): on PostgreSQL outside a transaction, every row in one statement (no BEGIN,
no COMMIT; the keys from the process's blocks), each value read back as Django writes it; a row that fails or a guard that
does not hold writes nothing. Elsewhere, one transaction of the ORM's (the permit tests open cases inside one)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from backend.accounts.actor import Actor
from backend.cases.models import Case, CaseEvent, CaseKind, OutboxMessage
from backend.cases.opening import AlreadyOpened, FirstMove, Outdated, open_case
from backend.complaints.models import Complaint, ComplaintCategory
from backend.complaints.workflow import ComplaintStatus
from backend.regions.models import Agency
from media.models import Attachment, AttachmentKind

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
pytestmark = pytest.mark.django_db(transaction=True)


def fields_of(instance, *, skip=()):
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
        if field.attname not in skip
    }


def opening(demo, resident, *, key="", extra=None, category=None, still=None, photos=1):
    region = demo["muba"]
    category = category or ComplaintCategory.objects.filter(region=region, parent__isnull=False).first()
    agency = Agency.objects.filter(region=region).first()
    captured = dt.datetime(2031, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    made = {}

    def details(case):
        made["complaint"] = Complaint(
            case=case,
            category_id=category.pk,
            description="Jalan berlubang — dekat pasar “Sekayu”",
            address="Jl. Merdeka",
            anonymous=True,
            extra=extra if extra is not None else {"severity": "berat", "notes": [None, "ü", 1.5, {"a": None}]},
        )
        made["photos"] = [
            Attachment(
                case=case,
                kind=AttachmentKind.PHOTO,
                uploader=resident,
                position=position,
                storage_key=f"photos/{uuid.uuid4().hex}.jpg",
                content_type="image/jpeg",
                size=1234,
                sha256="0" * 64,
                width=800,
                height=600,
                captured_at=captured,
                gps_lat=-2.9181234,
                gps_lon=104.7456789,
            )
            for position in range(photos)
        ]
        return [made["complaint"], *made["photos"]]

    case = open_case(
        actor=Actor.for_user(resident),
        fields={
            "kind": CaseKind.COMPLAINT,
            "region": region,
            "resident": resident,
            "status": ComplaintStatus.SUBMITTED,
            "lat": -2.9181234,
            "lon": 104.7456789,
            "h3_cell": "8a65a2b1a6dffff",
            "idempotency_key": key,
        },
        event_payload={"category": category.code, "note": "ü"},
        then=FirstMove("route", changes={"agency": agency, "due_at": captured}, payload={"rule": None}),
        details=details,
        still=still,
    )
    return case, made


@postgres_only
def test_one_statement_and_no_transaction(demo, resident):
    with CaptureQueriesContext(connection) as queries:
        opening(demo, resident)
    sqls = [query["sql"] for query in queries]
    writes = [index for index, text in enumerate(sqls) if text.startswith("WITH guard")]
    assert len(writes) == 1 and sqls[writes[0]].count("INSERT INTO") == 5  # case, events, outbox, complaint, photos
    opening_statements = [text.split()[0].upper() for text in sqls[: writes[0] + 1]]
    assert not {"BEGIN", "COMMIT", "SAVEPOINT"} & set(opening_statements)  # (what follows is the hand-off's)
    assert sum("nextval" in text for text in sqls[: writes[0]]) <= 1  # the keys: a block, now and then


def test_every_value_reads_back_as_it_was_written(demo, resident):
    case, made = opening(demo, resident, photos=2)
    stored = Case.objects.get(pk=case.pk)
    assert fields_of(stored) == fields_of(case)
    events = list(CaseEvent.objects.filter(case=stored).order_by("seq"))
    assert [event.type for event in events] == ["submitted", "routed"]
    assert events[0].payload == {"to": "submitted", "category": made["complaint"].category.code, "note": "ü"}
    from backend.cases.selectors import verify_chain

    assert verify_chain(stored) is None  # the hashes cover what was stored
    assert fields_of(Complaint.objects.get(pk=case.pk)) == fields_of(made["complaint"])
    for photo in made["photos"]:
        assert fields_of(Attachment.objects.get(pk=photo.pk), skip={"created_at"}) == fields_of(
            photo, skip={"created_at"}
        )
    rows = OutboxMessage.objects.filter(case=stored)
    assert rows.exists() and {row.event_id for row in rows} <= {event.pk for event in events}
    assert {(row.audience, row.event_type) for row in rows} == {
        ("user", "routed"),
        ("agency", "routed"),
        ("region", "submitted"),
        ("region", "routed"),
    }


def test_a_row_that_fails_writes_nothing(demo, resident):
    before = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        OutboxMessage.objects.count(),
        Attachment.objects.count(),
    )
    missing = ComplaintCategory(pk=987654, code="nope")
    with pytest.raises(IntegrityError):
        opening(demo, resident, category=missing)
    after = (Case.objects.count(), CaseEvent.objects.count(), OutboxMessage.objects.count(), Attachment.objects.count())
    assert after == before


@postgres_only
def test_a_guard_that_does_not_hold_writes_nothing(demo, resident):
    before = Case.objects.count()
    with pytest.raises(Outdated):
        opening(demo, resident, still=("false", []))
    case, _made = opening(demo, resident, key="retry-1")
    with pytest.raises(AlreadyOpened) as earlier:
        opening(demo, resident, key="retry-1")
    assert earlier.value.case_id == case.pk
    assert Case.objects.count() == before + 1


def test_an_idempotency_key_is_checked_everywhere(demo, resident):
    case, _made = opening(demo, resident, key="again")
    with pytest.raises(AlreadyOpened):
        opening(demo, resident, key="again")
    assert Case.objects.filter(idempotency_key="again").count() == 1 and case.pk
