"""Webhooks on the production topology: gunicorn takes the change, PostgreSQL's NOTIFY wakes the outbox relay of a
separate Celery worker, which fans out and posts; beat's sweep retries. The receiver verifies with standardwebhooks."""

from __future__ import annotations

import time

import pytest
from graphql_relay import to_global_id

from backend.cases.models import Case
from notifications.webhooks import services
from tests.helpers import SUBMIT, complaint_input, staff_actor, staff_user
from tests.live import celery_worker, free_port, gunicorn, needs_services, relay_listening, wait_for
from tests.notifications.test_ws import http, token_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def topology(tmp_path):
    web = gunicorn(free_port(), tmp_path / "gunicorn.log", WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    worker = celery_worker(tmp_path / "worker.log", beat=True, WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    try:
        wait_for(relay_listening, 30, "the worker's relay to listen", every=0.2)
        yield web.host
    finally:
        for process in (worker, web):
            process.stop()


def test_a_change_reaches_the_endpoint_through_the_worker_and_a_retry_keeps_its_id(
    topology, integration, receiver, resident, category, places
):
    _endpoint, secret = services.create_endpoint(
        actor=staff_actor("admin.muba"),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, event_types=["case.submitted", "case.status_changed"]),
    )
    receiver.secrets.append(secret)
    started = time.monotonic()
    filed = http(
        topology, SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])}, token_for(resident)
    )
    wait_for(lambda: len(receiver.received) >= 2, 20, "the submission's webhooks")
    assert time.monotonic() - started < 10
    assert receiver.types() == ["case.submitted", "case.status_changed"] and receiver.unverified == []

    receiver.answer(503)  # the next delivery fails once: beat's sweep sends it again after ~5 s
    case = Case.objects.get(tracking_code=filed["submitComplaint"]["case"]["trackingCode"])
    accepted = http(
        topology,
        "mutation($c: ID!) { acceptCase(caseId: $c) { errors { code } } }",
        {"c": to_global_id("Case", case.pk)},
        token_for(staff_user("pupr.staf")),
    )
    assert accepted["acceptCase"]["errors"] == []
    wait_for(lambda: len(receiver.received) >= 4, 40, "the retry of the failed delivery")
    first, retry = receiver.received[2], receiver.received[3]
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert retry.json["data"]["status"] == "accepted" and receiver.unverified == []
