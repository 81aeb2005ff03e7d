"""Soak: live subscriptions on the production topology stay open while nothing happens, past every timeout in their
path, and then receive the next change. gunicorn answers HTTP, daphne the WebSockets, a Celery worker's relay hands
changes on; PostgreSQL and the Redis channel layer; every setting at its default. The clients are `gql` (no pings of
its own at the GraphQL level) and plain sockets that count the server's keep-alive pings.

Timeouts in the path, each shorter than the idle time here: the channel layer's Redis reads (15 s,
CHANNEL_LAYER_READ_TIMEOUT_SECONDS; they were 5 s and closed every idle socket), daphne's WebSocket ping and its
timeout (20 s, 30 s), the server's GraphQL keep-alive (25 s), the session check (60 s), and a proxy's idle timeout
(nginx: 60 s)."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from gql import Client
from gql import gql as parse

from backend.cases.models import Case, CaseEvent
from tests.helpers import SUBMIT, complaint_input, staff_user
from tests.live import celery_worker, daphne, free_port, gunicorn, needs_services, off_loop, relay_listening, wait_for
from tests.notifications.test_ws import (
    CASE_UPDATED,
    MY_CASES,
    http,
    listening,
    staff_does,
    token_for,
    transport,
)

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

AGENCY_QUEUE = "subscription { agencyQueue { notificationId eventType case { trackingCode } } }"

IDLE_SECONDS = 70
PER_KIND = 8


@pytest.fixture
def topology(tmp_path):
    """gunicorn, daphne and a Celery worker (with its outbox relay), as deployed."""
    ws = daphne(free_port(), tmp_path / "daphne.log", CELERY_TASK_ALWAYS_EAGER="false")
    web = gunicorn(free_port(), tmp_path / "gunicorn.log")
    worker = celery_worker(tmp_path / "worker.log")

    try:
        wait_for(relay_listening, 30, "the worker's relay to listen", every=0.2)
        yield {"ws": ws.host, "http": web.host}
    finally:
        for process in (worker, web, ws):
            process.stop()


async def count_pings(host: str, pings: list, stop: asyncio.Event) -> None:
    async with websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(socket.recv(), 1))
            except TimeoutError:
                continue
            if message == {"type": "ping"}:
                pings.append(asyncio.get_running_loop().time())
                await socket.send(json.dumps({"type": "pong"}))


def test_idle_subscriptions_outlive_every_timeout_and_get_the_next_change(topology, demo, category, places, resident):
    resident_token = token_for(resident)
    data = http(
        topology["http"], SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])}, resident_token
    )
    case = Case.objects.get(tracking_code=data["submitComplaint"]["case"]["trackingCode"])
    staff_token = token_for(staff_user("pupr.kabid"))
    subscriptions = (
        [(resident_token, CASE_UPDATED, {"region": "musi-banyuasin", "code": case.tracking_code}, "caseUpdated")]
        * PER_KIND
        + [(None, CASE_UPDATED, {"region": "musi-banyuasin", "code": case.tracking_code}, "caseUpdated")] * PER_KIND
        + [(resident_token, MY_CASES, {}, "myCases")] * PER_KIND
        + [(staff_token, AGENCY_QUEUE, {}, "agencyQueue")] * PER_KIND
    )

    async def run():
        received: list[dict] = []
        pings: list[float] = []
        stop = asyncio.Event()

        async def follow(token, query, variables, field):
            async with Client(transport=transport(topology["ws"], token)) as session:
                async for result in session.subscribe(parse(query), variable_values=variables):
                    received.append(result[field])
                    return

        followers = [asyncio.create_task(follow(*s)) for s in subscriptions]
        pingers = [asyncio.create_task(count_pings(topology["ws"], pings, stop)) for _ in range(2)]
        for group in (f"case.{case.pk}", f"user.{case.resident_id}", f"agency.{case.agency_id}"):
            await listening(group)
        await asyncio.sleep(IDLE_SECONDS)
        assert not any(task.done() for task in followers + pingers), [t.exception() for t in followers if t.done()]
        await off_loop(staff_does, topology["http"], "acceptCase", case)
        await asyncio.wait_for(asyncio.gather(*followers), 15)
        stop.set()
        await asyncio.gather(*pingers)
        return received, pings

    received, pings = asyncio.run(run())
    accepted = CaseEvent.objects.get(case=case, type="accepted")
    assert len(received) == len(subscriptions)
    assert {(r["eventType"], r["notificationId"]) for r in received} == {("accepted", str(accepted.pk))}
    # Each quiet socket was pinged every 25 s (GRAPHQL_WS_KEEPALIVE_SECONDS): twice each in 70 s.
    assert len(pings) == 4
