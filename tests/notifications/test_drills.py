"""Failure drills with traffic flowing, on the production topology: gunicorn for HTTP, daphne for WebSockets, a Celery
worker with its outbox relay and beat, PostgreSQL, a Redis of the test's own, the local FCM server, and the
`graphql-ws` client following a resident's cases. Each drill asserts that nothing is lost, nothing arrives more often
than at-least-once allows, and every request meanwhile gets a real answer."""

from __future__ import annotations

import asyncio
import collections
import json
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.utils import timezone

from backend.accounts.models import Device
from backend.cases.models import Audience, Case, OutboxMessage, OutboxStatus
from notifications.models import PushDelivery, PushStatus
from tests.helpers import SUBMIT, complaint_input, staff_user
from tests.live import (
    APPLICATION_NAME,
    JsClient,
    celery_worker,
    daphne,
    free_port,
    gunicorn,
    needs_node,
    needs_services,
    redis_server,
    relay_listening,
    wait_for,
)
from tests.notifications.test_resilience import push_env as resilience_push_env
from tests.notifications.test_ws import listening, token_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

MY_CASES = "subscription { myCases { notificationId eventType replayed case { trackingCode status } } }"


def post(host: str, query: str, variables: dict | None = None, token: str | None = None) -> tuple[int, dict, float]:
    """POST a GraphQL request; (HTTP status, body, seconds taken). Never raises for an HTTP error status."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://{host}/graphql", body, headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local test server
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = {"html": raw[:200].decode(errors="replace")}
    return status, payload, time.monotonic() - started


def ok(result: tuple[int, dict, float]) -> dict:
    status, payload, _took = result
    assert status == 200 and "errors" not in payload, payload
    return payload["data"]


def staff_move(host: str, mutation: str, case: Case, **args) -> tuple[int, dict, float]:
    from graphql_relay import to_global_id

    token = token_for(staff_user("pupr.staf"))
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in args.items())
    query = f'mutation {{ {mutation}(caseId: "{to_global_id("Case", case.pk)}"{extra}) {{ errors {{ code }} }} }}'
    return post(host, query, token=token)


def file_complaint(host: str, token: str, category, places, key: str) -> tuple[int, dict, float]:
    variables = {"input": complaint_input(category("jalan-rusak"), *places["lais"], idempotencyKey=key)}
    return post(host, SUBMIT, variables, token)


def push_env(fcm_server) -> dict:
    return {**resilience_push_env(fcm_server), "OUTBOX_RETRY_BASE_SECONDS": 2, "OUTBOX_RETRY_MAX_SECONDS": 5}


def follow_my_cases(ws_host: str, resident, tmp_path) -> JsClient:
    token_file = tmp_path / "token"
    token_file.write_text(token_for(resident))
    config = {
        "url": f"ws://{ws_host}/graphql",
        "tokenFile": str(token_file),
        "query": MY_CASES,
        "retryWaitMs": 500,
        "retryAttempts": 1000,
    }
    return JsClient(config, tmp_path / "node.log")


def updates(client: JsClient) -> list[dict]:
    return [r["result"]["data"]["myCases"] for r in client.seen if r["event"] == "next"]


def drain(client: JsClient) -> None:
    """Take every report the client has made so far into `client.seen`."""
    while not client.events.empty():
        client.seen.append(client.events.get())


@needs_node
def test_redis_outage(demo, category, places, resident, fcm_server, tmp_path):
    """Redis (cache, channel layer, broker) stopped while residents file and staff work: every request answers as
    usual, phones are still pushed, the live socket closes with a code the client retries, and after Redis returns
    the client gets, by replay, every change it missed."""
    fcm_server.reset()
    redis_port = free_port()
    redis = redis_server(redis_port, tmp_path / "redis-1.log")
    env = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", **push_env(fcm_server)}
    ws = daphne(free_port(), tmp_path / "daphne.log", CELERY_TASK_ALWAYS_EAGER="false", **env)
    web = gunicorn(free_port(), tmp_path / "gunicorn.log", **env)
    worker = celery_worker(tmp_path / "worker.log", beat=True, **env)
    client = None
    try:
        wait_for(relay_listening, 30, "the relay to listen", every=0.2)
        Device.objects.create(user=resident, token="phone-resident", platform="android")
        token = token_for(resident)
        before = [ok(file_complaint(web.host, token, category, places, f"before-{n}")) for n in range(2)]
        cases = [Case.objects.get(tracking_code=d["submitComplaint"]["case"]["trackingCode"]) for d in before]
        following_since = timezone.now()
        client = follow_my_cases(ws.host, resident, tmp_path)
        client.expect("connected")
        asyncio.run(listening(f"user.{resident.pk}", env["REDIS_URL"]))
        ok(staff_move(web.host, "acceptCase", cases[0]))
        client.expect("next")

        outage_began, killed = timezone.now(), time.monotonic()
        redis.kill()
        assert client.expect("closed", timeout=10)["code"] == 4503  # try again later: graphql-ws retries it
        during = []
        for n in range(3):
            during.append(file_complaint(web.host, token, category, places, f"during-{n}"))
        during.append(staff_move(web.host, "acceptCase", cases[1]))
        during.append(staff_move(web.host, "startCase", cases[0]))
        during.append(post(web.host, 'mutation { requestOtp(phone: "081299990000") { errors { code } } }'))
        time.sleep(max(0.0, 12 - (time.monotonic() - killed)))  # past the breakers' cooldown, twice
        during.append(staff_move(web.host, "resolveCase", cases[0], note="Sudah ditambal."))
        for status, payload, took in during:
            assert status == 200 and "errors" not in payload, payload
            assert all(not v.get("errors") for v in payload["data"].values()), payload
            assert took < 3, f"a request took {took:.1f} s while Redis was down"
        # The relay does not wait on the dead broker per change: the resident's phone hears of the changes made
        # meanwhile (three filings routed, an acceptance, work started, resolved) while Redis is still down.
        meanwhile = PushDelivery.objects.filter(message__event__created_at__gt=outage_began)

        def pushed_meanwhile():
            return meanwhile.count() == 6 and not meanwhile.exclude(status=PushStatus.SENT).exists()

        wait_for(pushed_meanwhile, 20, "the pushes of the changes made during the outage")

        redis = redis_server(redis_port, tmp_path / "redis-2.log")
        expected = set(
            OutboxMessage.objects.filter(
                audience=Audience.USER, audience_id=resident.pk, event__created_at__gt=following_since
            )
            .values_list("event_id", flat=True)
            .distinct()
        )
        expected = {str(pk) for pk in expected}

        def everything_arrived():
            drain(client)
            return {u["notificationId"] for u in updates(client)} >= expected

        wait_for(everything_arrived, 60, "the client to get every change it missed", every=0.2)
        wait_for(
            lambda: (
                not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists()
                and not PushDelivery.objects.filter(status=PushStatus.PENDING).exists()
            ),
            60,
            "the outbox to drain",
        )
    finally:
        if client is not None:
            client.stop()
        for process in (worker, web, ws, redis):
            process.stop()
    received = collections.Counter(u["notificationId"] for u in updates(client))
    assert set(received) >= expected  # nothing lost
    # Nothing of anyone else; what came besides is the resident's own from just before (the replay's overlap).
    theirs = OutboxMessage.objects.filter(audience=Audience.USER, audience_id=resident.pk)
    assert set(received) <= {str(pk) for pk in theirs.values_list("event_id", flat=True)}
    assert max(received.values()) <= 2  # at least once: a replayed change may also arrive live once
    assert any(u["replayed"] for u in updates(client))
    assert PushDelivery.objects.filter(status=PushStatus.SENT).count() == len(fcm_server.sends)
    assert len(fcm_server.tokens_sent()) == len(set(PushDelivery.objects.values_list("message_id", flat=True)))
    # Logged once per outage, not per request.
    assert web.logged().count("unreachable, using the fallback") <= 2 * 3  # per worker process and breaker


def test_terminated_database_connections_cost_no_request(demo, category, places, resident, tmp_path):
    """PostgreSQL ends every connection of the servers and the worker (a failover, a restart, an operator): the next
    requests over HTTP and the next live message over the WebSocket are answered as if nothing happened."""
    ws = daphne(free_port(), tmp_path / "daphne.log", CELERY_TASK_ALWAYS_EAGER="false")
    web = gunicorn(free_port(), tmp_path / "gunicorn.log")
    worker = celery_worker(tmp_path / "worker.log")
    client = None
    try:
        wait_for(relay_listening, 30, "the relay to listen", every=0.2)
        token = token_for(resident)
        data = ok(file_complaint(web.host, token, category, places, "k"))
        case = Case.objects.get(tracking_code=data["submitComplaint"]["case"]["trackingCode"])
        me = "{ me { phone } }"
        for _ in range(40):  # every worker thread has used (and pooled) connections
            ok(post(web.host, me, token=token))
        client = follow_my_cases(ws.host, resident, tmp_path)
        client.expect("connected")
        asyncio.run(listening(f"user.{resident.pk}"))
        ok(staff_move(web.host, "acceptCase", case))
        assert client.expect("next")["result"]["data"]["myCases"]["eventType"] == "accepted"

        with connection.cursor() as cursor:  # every connection of the servers and the worker
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            )
            assert cursor.fetchone()[0] >= 4

        results = [post(web.host, me, token=token) for _ in range(40)]
        assert [r[0] for r in results] == [200] * 40
        assert all(r[1] == {"data": {"me": {"phone": resident.phone}}} for r in results), results
        wait_for(relay_listening, 30, "the relay to listen again", every=0.2)
        ok(staff_move(web.host, "startCase", case))
        result = client.expect("next", timeout=20)["result"]
        assert "errors" not in result and result["data"]["myCases"]["eventType"] == "work_started", result
    finally:
        if client is not None:
            client.stop()
        for process in (worker, web, ws):
            process.stop()
