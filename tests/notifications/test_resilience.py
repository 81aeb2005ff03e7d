"""Nothing is lost when a worker dies or Redis goes away: real Celery workers (killed with SIGKILL), a real Redis
stopped and started again, a live daphne, and the local FCM server."""

from __future__ import annotations

import asyncio
import collections
import time

import pytest
from django.db.models import Q

from backend.accounts.models import Device, User
from backend.cases.models import Case, OutboxMessage, OutboxStatus
from backend.cases.services import transition
from backend.celery import app as celery_app
from notifications.models import PushDelivery, PushStatus
from tests.helpers import staff_actor
from tests.live import celery_worker, daphne, free_port, needs_services, off_loop, redis_server, wait_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


def push_env(fcm_server) -> dict:
    return {
        "FIREBASE_CREDENTIALS": fcm_server.credentials(),
        "FCM_ENDPOINT": fcm_server.url,
        "OUTBOX_LEASE_SECONDS": 5,
        "OUTBOX_SWEEP_SECONDS": 1,
    }


@pytest.fixture
def cases(demo, category, places, submit):
    """Twenty routed complaints, each by its own resident with one phone."""
    found = []
    for n in range(20):
        resident = User.objects.create(phone=f"+6281377{n:06d}")
        submit(category("jalan-rusak"), *places["lais"], as_user=resident, idempotencyKey=f"k-{n}")
        Device.objects.create(user=resident, token=f"tok-{n:02d}", platform="android")
        found.append(Case.objects.get(resident=resident))
    return found


def test_killing_the_worker_mid_batch_loses_nothing(cases, fcm_server, tmp_path, settings):
    fcm_server.reset()
    fcm_server.delay = 0.3  # each send takes a while, so the kill lands while pushes are in flight
    # This test's changes go to real workers: by NOTIFY to the worker's relay, which queues pushes on the broker.
    settings.OUTBOX_RELAY = True
    celery_app.conf.task_always_eager = False
    worker = celery_worker(tmp_path / "worker-1.log", **push_env(fcm_server))
    try:
        for case in cases:
            transition(case, "accept", actor=staff_actor("pupr.staf"))  # commits; the relay hears of it
        wait_for(lambda: len(fcm_server.sends) >= 3, 30, "the first pushes")
        worker.kill()
        # What the dead worker had taken but not finished: pushes claimed (attempted) and still pending.
        in_flight = set(
            PushDelivery.objects.filter(status=PushStatus.PENDING, attempts__gte=1).values_list(
                "device__token", flat=True
            )
        )
        sent_before = set(PushDelivery.objects.filter(status=PushStatus.SENT).values_list("device__token", flat=True))
        assert in_flight, "the kill should have caught pushes in flight"
        worker = celery_worker(tmp_path / "worker-2.log", beat=True, **push_env(fcm_server))
        tokens = {f"tok-{n:02d}" for n in range(20)}
        wait_for(
            lambda: (
                not PushDelivery.objects.filter(~Q(status=PushStatus.SENT)).exists()
                and PushDelivery.objects.count() == 20
                and not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists()
            ),
            60,
            "every notification delivered after the restart",
        )
    finally:
        worker.stop()
    received = collections.Counter(fcm_server.tokens_sent())
    assert set(received) == tokens  # every phone heard of its case
    twice = {token for token, count in received.items() if count > 1}
    # The at-least-once rule: only a push that was in flight when its worker died may arrive again; a push recorded
    # as sent never is, and nothing arrives more than twice.
    assert twice <= in_flight
    assert not twice & sent_before
    assert max(received.values()) <= 2


def test_redis_down_while_a_case_changes(cases, fcm_server, tmp_path):
    from tests.notifications.test_ws import CASE_UPDATED, http, listening, staff_does, token_for, transport

    fcm_server.reset()
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"

    redis = redis_server(port, tmp_path / "redis.log")
    env = {"REDIS_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "false", **push_env(fcm_server)}
    server = daphne(free_port(), tmp_path / "daphne.log", **env)
    worker = None
    case = cases[0]
    try:
        host = server.host
        redis.kill()
        started = time.monotonic()
        result = staff_does(host, "acceptCase", case)
        took = time.monotonic() - started
        assert result == {"acceptCase": {"errors": []}}  # the change is made and answered
        assert took < 5, f"the request waited {took:.1f} s on the missing broker"
        case.refresh_from_db()
        assert case.status == "accepted"
        pending = OutboxMessage.objects.filter(case=case, event__type="accepted")
        assert pending.exists() and all(r.status == OutboxStatus.PENDING for r in pending)
        assert fcm_server.sends == []

        redis = redis_server(port, tmp_path / "redis-2.log")  # Redis is back (empty: it kept nothing)
        resident_token = token_for(case.resident)

        async def follow():
            from gql import Client
            from gql import gql as parse

            async with Client(transport=transport(host, resident_token)) as session:
                results = []

                async def collect():
                    async for item in session.subscribe(
                        parse(CASE_UPDATED), variable_values={"region": "musi-banyuasin", "code": case.tracking_code}
                    ):
                        results.append(item)
                        return

                task = asyncio.create_task(collect())
                await listening(f"case.{case.pk}", redis_url)
                nonlocal worker
                worker = await off_loop(celery_worker, tmp_path / "worker.log", beat=True, **env)
                await asyncio.wait_for(task, 30)
                return results

        (update,) = asyncio.run(follow())
        assert update["caseUpdated"]["eventType"] == "accepted"
        wait_for(lambda: f"tok-{0:02d}" in fcm_server.tokens_sent(), 30, "the push after Redis returned")
        assert http(host, "{ __typename }") == {"__typename": "Query"}
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
        redis.stop()
