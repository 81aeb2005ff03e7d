"""Webhooks end to end: a change commits, the outbox fans it out, the receiver (standardwebhooks) verifies each
delivery; retries on a clock the test controls; 410; order per case; rotation; redelivery; auto-disable; SSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from backend.accounts.actor import Scope
from backend.cases.models import Case
from backend.cases.services import transition
from backend.errors import DomainErrors
from backend.integrations import services as integrations
from notifications.webhooks import delivery, services
from notifications.webhooks.models import Attempt, Endpoint, Message, MessageStatus
from tests.helpers import staff_actor
from tests.webhooks.conftest import NAMES

pytestmark = pytest.mark.django_db

ADMIN = "admin.muba"


def act(case: Case, *actions: str, username="pupr.staf", **payload) -> None:
    """Staff moves, each committed (so each hands its outbox rows on)."""
    for action in actions:
        with TestCase.captureOnCommitCallbacks(execute=True):
            transition(Case.objects.get(pk=case.pk), action, actor=staff_actor(username), payload=payload)


def test_a_submission_reaches_the_endpoint_signed_in_order(endpoint, receiver, road_complaint):
    assert receiver.types() == ["case.submitted", "case.status_changed", "case.routed"]
    assert receiver.unverified == []
    first = receiver.received[0].json
    assert first["data"]["trackingCode"] == road_complaint.tracking_code and first["data"]["version"] == 1
    assert first["data"]["complaint"]["category"] == "jalan-rusak"
    assert "resident" not in str(first) and "reporter" not in str(first)  # never who reported it
    assert all(m.status == MessageStatus.DELIVERED for m in Message.objects.all())
    ids = [item.headers["webhook-id"] for item in receiver.received]
    assert len(set(ids)) == 3 and all(i.startswith("msg_") for i in ids)


def test_staff_work_is_sent_as_status_changes(endpoint, receiver, road_complaint):
    act(road_complaint, "accept", "start")
    act(road_complaint, "resolve", note="Sudah ditambal.")
    statuses = [item.json["data"]["status"] for item in receiver.received if item.json["type"] == "case.status_changed"]
    assert statuses == ["routed", "accepted", "in_progress", "resolved"]
    assert receiver.types()[-1] == "case.resolved" and receiver.unverified == []


def test_an_internal_note_sends_nothing(endpoint, receiver, road_complaint):
    before = len(receiver.received)
    act(road_complaint, "note", text="cek lapangan besok")
    assert len(receiver.received) == before


def test_retries_follow_the_schedule_with_the_same_id(endpoint, receiver, road_complaint):
    receiver.received.clear()
    receiver.answer(503, 500)
    start = timezone.now()
    act(road_complaint, "accept")  # status_changed: 503
    message = Message.objects.get(event_type="case.status_changed", status=MessageStatus.PENDING)
    assert message.attempts == 1 and len(receiver.received) == 1
    assert delivery.sweep(now=start + timedelta(seconds=4)) == 0  # 5 s (±10 %) not yet up
    delivery.sweep(now=start + timedelta(seconds=6))  # attempt 2: 500
    message.refresh_from_db()
    assert (message.attempts, message.status) == (2, MessageStatus.PENDING)
    assert delivery.sweep(now=start + timedelta(seconds=200)) == 0  # the next wait is 5 minutes
    delivery.sweep(now=start + timedelta(seconds=400))  # attempt 3: 200
    message.refresh_from_db()
    assert (message.attempts, message.status) == (3, MessageStatus.DELIVERED)
    assert len({item.headers["webhook-id"] for item in receiver.received}) == 1 and receiver.unverified == []
    assert [a.status_code for a in Attempt.objects.filter(message=message)] == [503, 500, 200]


def test_retry_after_is_honoured(endpoint, receiver, road_complaint):
    receiver.answer(429, headers={"Retry-After": "120"})
    start = timezone.now()
    act(road_complaint, "accept")
    assert delivery.sweep(now=start + timedelta(seconds=60)) == 0
    assert delivery.sweep(now=start + timedelta(seconds=125)) == 1


def test_a_later_status_never_overtakes_an_earlier_one(endpoint, receiver, road_complaint):
    receiver.received.clear()
    receiver.answer(503)
    start = timezone.now()
    act(road_complaint, "accept", "start")  # accepted fails; in_progress waits behind it
    assert [item.json["data"]["status"] for item in receiver.received] == ["accepted"]
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 2
    delivery.sweep(now=start + timedelta(seconds=6))
    assert [item.json["data"]["status"] for item in receiver.received] == ["accepted", "accepted", "in_progress"]


def test_other_cases_are_not_held_up(endpoint, receiver, road_complaint, submit, category, places):
    receiver.answer(503)
    act(road_complaint, "accept")  # this case's message waits for its retry
    other = submit(category("sampah"), *places["lais"])
    codes = [item.json["data"]["trackingCode"] for item in receiver.received]
    assert codes[-1] == other["case"]["trackingCode"]


def test_410_disables_the_endpoint_and_tells_its_contact(endpoint, receiver, road_complaint):
    receiver.answer(410)
    act(road_complaint, "accept")
    endpoint.refresh_from_db()
    assert not endpoint.active and "410 Gone" in endpoint.disabled_reason
    assert mail.outbox and "ops@muba.example" in mail.outbox[0].to
    act(road_complaint, "start")  # nothing goes to a disabled endpoint…
    assert receiver.types().count("case.status_changed") == 2
    services.update_endpoint(
        actor=staff_actor(ADMIN), endpoint_id=endpoint.pk, values=services.EndpointInput(active=True)
    )  # …until it is switched on again: what waited goes, in order
    statuses = [i.json["data"]["status"] for i in receiver.received if i.json["type"] == "case.status_changed"]
    assert statuses == ["routed", "accepted", "in_progress"]


def test_other_client_errors_fail_without_retry(endpoint, receiver, road_complaint):
    receiver.answer(400)
    act(road_complaint, "accept")
    message = Message.objects.get(event_type="case.status_changed", attempts=1, status=MessageStatus.FAILED)
    assert delivery.sweep(now=timezone.now() + timedelta(days=2)) == 0
    assert message.attempt_log.get().status_code == 400


def test_an_endpoint_failing_for_days_is_disabled(endpoint, receiver, road_complaint):
    receiver.answer(*[503] * 20)
    start = timezone.now()
    act(road_complaint, "accept")
    for hour in range(1, 119):
        delivery.sweep(now=start + timedelta(hours=hour))
    endpoint.refresh_from_db()
    assert endpoint.active and mail.outbox == []  # failing for less than 5 days
    for hour in range(119, 130):
        delivery.sweep(now=start + timedelta(hours=hour))
    endpoint.refresh_from_db()
    assert not endpoint.active and "120" in endpoint.disabled_reason
    assert {"ops@muba.example"} <= set(mail.outbox[0].to)


def test_the_schedule_ends_in_failure(endpoint, receiver, road_complaint, settings):
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 1000
    receiver.answer(*[503] * 20)
    start = timezone.now()
    act(road_complaint, "accept")
    for hour in range(1, 24 * 5):
        delivery.sweep(now=start + timedelta(hours=hour))
    message = Message.objects.get(event_type="case.status_changed", case=road_complaint, event_seq=3)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 10)


def test_rotation_signs_with_both_secrets_for_the_grace(endpoint, receiver, road_complaint):
    old = receiver.secrets[0]
    _endpoint, new = services.rotate_secret(actor=staff_actor(ADMIN), endpoint_id=endpoint.pk)
    act(road_complaint, "accept")
    last = receiver.received[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        receiver.secrets = [secret]
        receiver.verify(last)
    assert receiver.unverified == []


def test_redelivery_keeps_the_id(endpoint, receiver, road_complaint):
    message = Message.objects.filter(event_type="case.submitted").get()
    before = len(receiver.received)
    services.redeliver(actor=staff_actor(ADMIN), message_seq=message.seq)
    again = receiver.received[before:]
    assert [item.headers["webhook-id"] for item in again] == [message.webhook_id] and receiver.unverified == []


def test_redeliver_everything_failed_since(endpoint, receiver, road_complaint):
    receiver.answer(400, 400)
    act(road_complaint, "accept", "start")
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 2
    count = services.redeliver_failed(
        actor=staff_actor(ADMIN), endpoint_id=endpoint.pk, since=timezone.now() - timedelta(hours=1)
    )
    assert count == 2 and Message.objects.filter(status=MessageStatus.FAILED).count() == 0


def test_ping_and_dry_run(endpoint, receiver, road_complaint):
    attempt = services.ping(actor=staff_actor(ADMIN), endpoint_id=endpoint.pk)
    assert attempt.status_code == 200 and receiver.received[-1].json["type"] == "webhook.ping"
    body = services.dry_run(
        actor=staff_actor(ADMIN), endpoint_id=endpoint.pk, case_id=road_complaint.pk, event_type="case.resolved"
    )
    assert '"type":"case.resolved"' in body and receiver.types().count("case.resolved") == 0


def test_filters_and_event_types(integration, receiver, road_complaint, submit, category, places, demo):
    dishub = demo["muba"].agencies.get(code="dishub")
    _endpoint, secret = services.create_endpoint(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, event_types=["case.submitted"], agencies=[dishub.pk]),
    )
    receiver.secrets.append(secret)
    submit(category("jalan-rusak"), *places["lais"])  # DPUPR's: filtered out
    light = submit(category("lampu-jalan"), *places["lais"])  # Dishub's
    assert [(i.json["type"], i.json["data"]["trackingCode"]) for i in receiver.received] == [
        ("case.submitted", light["case"]["trackingCode"])
    ]


def test_confidential_complaints_need_their_scope(integration, endpoint, receiver, submit, category, places):
    secret = submit(category("jalan-rusak"), *places["lais"], confidential=True)
    assert secret["case"]["trackingCode"] not in {i.json["data"]["trackingCode"] for i in receiver.received}
    integrations.update_integration(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        scopes=[Scope.READ_CASES, Scope.READ_CONFIDENTIAL, Scope.MANAGE_WEBHOOKS],
    )
    shown = submit(category("jalan-rusak"), *places["lais"], confidential=True)
    assert shown["case"]["trackingCode"] in {i.json["data"]["trackingCode"] for i in receiver.received}


def test_without_the_read_scope_nothing_is_sent(integration, endpoint, receiver, road_complaint):
    integrations.update_integration(actor=staff_actor(ADMIN), integration_id=integration.pk, scopes=[])
    before = len(receiver.received)
    act(road_complaint, "accept")
    assert len(receiver.received) == before


def test_another_regions_cases_are_never_sent(endpoint, receiver, submit, category, places):
    submit(category("jalan-rusak", "parepare"), *places["parepare"], region="parepare")
    assert receiver.received == []


def test_delivered_payloads_are_purged_after_the_retention(endpoint, receiver, road_complaint, settings):
    assert delivery.purge(now=timezone.now() + timedelta(days=29)) == 0
    assert delivery.purge(now=timezone.now() + timedelta(days=31)) == 3
    assert set(Message.objects.values_list("body", flat=True)) == {""}
    assert Attempt.objects.count() == 3  # the log stays


# --- SSRF ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:10.1.2.3]/hook",
        "https://100.64.1.1/hook",
        "ftp://example.org/hook",
        "https://user:pw@example.org/hook",
        "http://example.org/hook",  # plain http for a host not allow-listed
        "https://example.org:0/hook",  # would be sent to 443
        "https://example.org/a hook",
    ],
)
def test_unsafe_urls_are_refused_when_saved(integration, url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(DomainErrors) as refused:
        services.create_endpoint(
            actor=staff_actor(ADMIN), integration_id=integration.pk, values=services.EndpointInput(url=url)
        )
    assert [e.code for e in refused.value.errors] == ["unsafe_url"]


@pytest.mark.parametrize(
    ("name", "address"),
    [("intranet.example", "10.1.2.3"), ("metadata.example", "169.254.169.254"), ("self.example", "127.0.0.1")],
)
def test_a_name_resolving_to_an_internal_address_is_refused_at_send_time(
    integration, road_complaint, name, address, settings, loopback_only
):
    """The name looked public when saved; at send time it resolves inside: refused, and nothing connects there."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    NAMES[name] = "93.184.215.14"  # public when saved
    endpoint, _secret = services.create_endpoint(
        actor=staff_actor(ADMIN), integration_id=integration.pk, values=services.EndpointInput(url=f"https://{name}/h")
    )
    NAMES[name] = address  # rebinding
    act(road_complaint, "accept")
    attempt = Attempt.objects.filter(message__endpoint=endpoint).last()
    assert attempt.status_code is None and attempt.error.startswith(
        f"refused: {name} mengarah ke {address},"
    )  # in LANGUAGE_CODE
    assert loopback_only == []


def test_loopback_is_refused_unless_allow_listed(integration, receiver, road_complaint, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    NAMES["hooks.example"] = "127.0.0.1"
    endpoint = Endpoint.objects.create(
        integration=integration, url=f"https://hooks.example:{receiver.port}/h", secret=services.new_secret()
    )
    act(road_complaint, "accept")
    assert receiver.received == []
    assert Attempt.objects.filter(message__endpoint=endpoint).last().error.startswith("refused: hooks.example")


def test_a_category_group_filters_its_categories(integration, receiver, submit, category, places):
    group = category("jalan-rusak").parent
    _endpoint, secret = services.create_endpoint(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, event_types=["case.submitted"], categories=[group.pk]),
    )
    receiver.secrets.append(secret)
    road = submit(category("jalan-rusak"), *places["lais"])["case"]["trackingCode"]
    submit(category("sampah"), *places["lais"])
    assert [i.json["data"]["trackingCode"] for i in receiver.received] == [road]


def test_a_host_that_does_not_resolve_is_refused_when_saved(integration, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(DomainErrors) as refused:
        services.create_endpoint(
            actor=staff_actor(ADMIN),
            integration_id=integration.pk,
            values=services.EndpointInput(url="https://nowhere.example/hook"),
        )
    assert [e.code for e in refused.value.errors] == ["unsafe_url"] and "does not resolve" in refused.value.errors[
        0
    ].message


def test_events_fanned_out_together_go_in_order_even_when_the_first_sends_nothing(
    integration, receiver, road_complaint
):
    """Two changes whose outbox rows are drained in one batch (the hand-off missed, the sweep finds both); the endpoint
    wants only the second one's type, so nothing of the first holds it."""
    from notifications import delivery as outbox

    _endpoint, secret = services.create_endpoint(
        actor=staff_actor(ADMIN),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, event_types=["case.resolved"]),
    )
    receiver.secrets.append(secret)
    staff = staff_actor("pupr.staf")
    for action, payload in (("accept", {}), ("start", {}), ("resolve", {"note": "Beres."})):
        transition(
            Case.objects.get(pk=road_complaint.pk), action, actor=staff, payload=payload
        )  # no on-commit hand-off
    outbox.sweep()
    assert receiver.types() == ["case.resolved"] and receiver.unverified == []


def test_a_backlog_at_one_endpoint_never_holds_another_back(integration, endpoint, receiver, settings):
    """Claiming goes endpoint by endpoint, the longest waiting first, each within its concurrency: a deep backlog
    at one endpoint leaves room for another's message, and claiming costs the same however deep the backlog."""
    import uuid

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 2
    other, _secret = services.create_endpoint(
        actor=staff_actor(ADMIN), integration_id=integration.pk, values=services.EndpointInput(url=receiver.url)
    )
    now = timezone.now()

    def waiting(target, n, age):
        Message.objects.bulk_create(
            Message(uid=uuid.uuid4(), endpoint=target, event_type="ping", body="{}", ready=True,
                    next_attempt_at=now - timedelta(seconds=age))
            for _ in range(n)
        )  # fmt: skip

    waiting(endpoint, 200, age=60)
    waiting(other, 1, age=1)
    with CaptureQueriesContext(connection) as deep:
        taken = delivery.claim(now=now, limit=3)
    assert sorted(endpoint_id for _seq, endpoint_id in taken) == sorted([endpoint.pk, endpoint.pk, other.pk])
    assert delivery.claim(now=now, limit=3) == []  # both are at their concurrency (the leases hold)

    Message.objects.all().delete()
    waiting(endpoint, 3, age=60)
    waiting(other, 1, age=1)
    with CaptureQueriesContext(connection) as shallow:
        delivery.claim(now=now, limit=3)
    assert len(deep.captured_queries) == len(shallow.captured_queries)


def test_each_message_carries_the_status_its_event_left(endpoint, receiver, road_complaint):
    """Changes made faster than the relay fans them out: each message still says what its own event did."""
    from notifications import delivery as outbox

    receiver.received.clear()
    staff = staff_actor("pupr.staf")
    for action, payload in (("accept", {}), ("start", {}), ("resolve", {"note": "Beres."})):
        transition(Case.objects.get(pk=road_complaint.pk), action, actor=staff, payload=payload)
    outbox.sweep()  # all three fanned out after the last change
    changes = [item.json["data"] for item in receiver.received if item.json["type"] == "case.status_changed"]
    assert [(d["previousStatus"], d["status"], d["closedAt"]) for d in changes] == [
        ("routed", "accepted", None),
        ("accepted", "in_progress", None),
        ("in_progress", "resolved", None),
    ]


def test_a_transfer_is_not_a_status_change(endpoint, receiver, road_complaint):
    """A transfer's timeline payload names agencies in from/to: no status_changed, and the status stays."""
    from backend.regions.models import Agency

    receiver.received.clear()
    dishub = Agency.objects.get(region=road_complaint.region, code="dishub")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services_transfer(road_complaint, dishub)
    assert [item.json["type"] for item in receiver.received if item.json["type"] == "case.status_changed"] == []
    offered = delivery.render("case.routed", road_complaint, road_complaint.events.order_by("-seq").first())
    assert '"status":"routed"' in offered and '"previousStatus":null' in offered


def services_transfer(case, agency):
    from backend.cases import services as case_services

    case_services.transfer(actor=staff_actor("pupr.staf"), case_id=case.pk, agency_id=agency.pk, reason="Rambu.")
