"""The outbox relay: a change's NOTIFY reaches a relay thread at COMMIT (never before, never for a rollback), which
delivers live and queues the pushes; rows written while no relay listened go out when one starts; a relay whose
connection PostgreSQL drops listens again; two relays deliver each row once. And the web side of it: a process that
files a complaint with the relay on loads neither Celery nor the Redis channel layer."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from backend.accounts.models import Device
from backend.cases import outbox
from backend.cases.models import Audience, Case, OutboxMessage, OutboxStatus
from backend.cases.services import transition
from notifications.models import PushDelivery, PushStatus
from notifications.relay import OutboxRelay
from tests.helpers import SUBMIT, complaint_input, staff_actor
from tests.live import ROOT, needs_services, process_env, wait_for
from tests.notifications.test_ws import token_for

# PostgreSQL for NOTIFY; Redis so that the relay's thread and the test share a channel layer.
pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def relay_on(settings, fcm):
    settings.OUTBOX_RELAY = True
    return fcm


@pytest.fixture
def relays():
    started = []

    def start(**kwargs):
        relay = OutboxRelay(poll_seconds=0.2, **kwargs).start()
        started.append(relay)
        wait_for(relay.listening.is_set, 10, "the relay to listen")
        return relay

    yield start
    for relay in started:
        relay.stop()


def listen_to(group: str):
    """A channel in `group`; the function returned receives the next `n` messages (in one event loop: channels-redis
    hands a message out again when receives of one channel come from different loops)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def receive(n):
        return [await layer.receive(channel) for _ in range(n)]

    return lambda n=1: async_to_sync(receive)(n)[-1] if n == 1 else async_to_sync(receive)(n)


def accepted_rows(case):
    return OutboxMessage.objects.filter(case=case, event__type="accepted")


def test_a_change_goes_out_through_the_relay(road_complaint, relay_on, relays):
    Device.objects.create(user=road_complaint.resident, token="phone-1", platform="android")
    receive = listen_to(f"user.{road_complaint.resident_id}")
    relays()
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))  # autocommit: the NOTIFY goes out with it
    message = receive()
    row = accepted_rows(road_complaint).get(audience=Audience.USER)
    assert (
        message["id"] == str(row.event_id)
        and message["event_type"] == "accepted"
        and message["case"] == road_complaint.pk
    )
    wait_for(lambda: PushDelivery.objects.filter(message=row, status=PushStatus.SENT).exists(), 10, "the push")
    assert relay_on.tokens_sent() == ["phone-1"]
    assert {r.status for r in accepted_rows(road_complaint)} == {OutboxStatus.SENT}


def test_nothing_is_announced_before_commit_or_for_a_rollback(road_complaint, relay_on, relays):
    relays()
    with transaction.atomic():
        transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
        time.sleep(0.5)  # the relay would have had ample time to act on an early NOTIFY
        assert {(r.status, r.attempts) for r in accepted_rows(road_complaint)} == {(OutboxStatus.PENDING, 0)}
    wait_for(
        lambda: all(r.status == OutboxStatus.SENT for r in accepted_rows(road_complaint)), 10, "delivery after commit"
    )

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        transition(road_complaint, "start", actor=staff_actor("pupr.staf"))
        raise Undo
    time.sleep(0.5)
    assert not OutboxMessage.objects.filter(case=road_complaint, event__type="started").exists()


def test_rows_written_while_no_relay_listened_go_out_when_one_starts(road_complaint, relay_on, relays):
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
    time.sleep(0.2)
    assert {r.status for r in accepted_rows(road_complaint)} == {OutboxStatus.PENDING}
    receive = listen_to(f"agency.{road_complaint.agency_id}")
    relays()
    assert receive()["event_type"] == "accepted"
    wait_for(lambda: all(r.status == OutboxStatus.SENT for r in accepted_rows(road_complaint)), 10, "catching up")


def test_a_relay_listens_again_after_postgres_drops_it(road_complaint, relay_on, relays):
    relay = relays()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
            [f"LISTEN {outbox.CHANNEL}"],
        )
        assert cursor.fetchall() == [(True,)]
    wait_for(lambda: not relay.listening.is_set(), 10, "the relay to notice")
    wait_for(relay.listening.is_set, 10, "the relay to listen again")
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
    wait_for(lambda: all(r.status == OutboxStatus.SENT for r in accepted_rows(road_complaint)), 10, "delivery")


def test_two_relays_deliver_each_row_once(road_complaint, relay_on, relays):
    group = f"case.{road_complaint.pk}"
    receive = listen_to(group)
    relays()
    relays()
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
    wait_for(lambda: all(r.status == OutboxStatus.SENT for r in accepted_rows(road_complaint)), 10, "delivery")
    assert {r.attempts for r in accepted_rows(road_complaint)} == {1}
    time.sleep(0.3)
    async_to_sync(get_channel_layer().group_send)(group, {"type": "end.marker"})
    first, second = receive(2)
    assert first["event_type"] == "accepted"
    assert second == {"type": "end.marker"}  # no second copy came before it


WEB_PROCESS = """
import json, sys
import django
django.setup()
from django.test import Client
response = Client().post("/graphql", data=sys.argv[1], content_type="application/json",
                         HTTP_AUTHORIZATION="Bearer " + sys.argv[2])
print(json.dumps({"answer": response.json(), "loaded": [m for m in ("celery", "kombu", "channels_redis")
                                                        if m in sys.modules]}))
"""


def test_filing_with_the_relay_loads_neither_celery_nor_the_channel_layer(category, places, resident):
    body = json.dumps(
        {"query": SUBMIT, "variables": {"input": complaint_input(category("jalan-rusak"), *places["lais"])}}
    )
    env = process_env(DJANGO_SETTINGS_MODULE="backend.settings", OUTBOX_RELAY="true", CELERY_TASK_ALWAYS_EAGER="false")
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS, body, token_for(resident)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answer"]["data"]["submitComplaint"]["errors"] == []
    assert result["loaded"] == []
    case = Case.objects.get(tracking_code=result["answer"]["data"]["submitComplaint"]["case"]["trackingCode"])
    # Nobody listened: the rows wait for a relay or the sweep.
    assert {r.status for r in OutboxMessage.objects.filter(case=case)} == {OutboxStatus.PENDING}
