"""GraphQL subscriptions end to end: a live daphne on PostgreSQL and Redis, the `gql` package's websockets transport in
graphql-transport-ws mode (a client no one here wrote), and staff changing cases through HTTP mutations.
Protocol refusals are driven with the plain `websockets` client, to send what a well-behaved client never would."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
import redis
import websockets
from django.conf import settings
from gql import Client
from gql import gql as parse
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from graphql_relay import to_global_id

from backend.accounts.models import User
from backend.accounts.services import ClientInfo, _start_session
from backend.cases.models import Case, CaseEvent
from tests.helpers import SUBMIT, complaint_input, staff_user
from tests.live import daphne, free_port, needs_services, off_loop

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

CASE_UPDATED = """
subscription($region: String, $code: String, $id: ID) {
  caseUpdated(region: $region, trackingCode: $code, id: $id) {
    notificationId eventType case { trackingCode status version timeline { type } }
  }
}
"""
MY_CASES = "subscription { myCases { notificationId eventType case { trackingCode status } } }"
AGENCY_QUEUE = "subscription { agencyQueue { eventType case { trackingCode status agency { code } } } }"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    port = free_port()
    process = daphne(port, tmp_path_factory.mktemp("ws") / "daphne.log", GRAPHQL_WS_INIT_TIMEOUT_SECONDS=1)
    yield process.host
    process.stop()


def token_for(user) -> str:
    return _start_session(user, ClientInfo()).access_token


def http(server, query, variables=None, token=None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://{server}/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(), headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local test server
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def road_complaint_over_http(server, demo, category, places, resident):
    token = token_for(resident)
    data = http(server, SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])}, token)
    case = Case.objects.get(tracking_code=data["submitComplaint"]["case"]["trackingCode"])
    return case, token


def staff_does(server, mutation: str, case: Case, username="pupr.staf", **args):
    token = token_for(staff_user(username))
    extra = "".join(f", {k}: {json.dumps(v)}" for k, v in args.items())
    from graphql_relay import to_global_id

    return http(
        server,
        f'mutation {{ {mutation}(caseId: "{to_global_id("Case", case.pk)}"{extra}) {{ errors {{ code }} }} }}',
        token=token,
    )


def transport(server, token=None, **kwargs) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=f"ws://{server}/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"authorization": f"Bearer {token}"} if token else {},
        **kwargs,
    )


async def listening(group: str, redis_url: str | None = None) -> None:
    """Wait until a subscription has joined its channel-layer group (the protocol has no 'subscribed' message)."""
    client = redis.asyncio.from_url(redis_url or settings.REDIS_URL)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    try:
        for _ in range(200):
            if await client.zcard(f"{prefix}:group:{group}"):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"nobody joined {group}")
    finally:
        await client.aclose()


async def first_results(session, query, variables, count, *, group, then):
    """Subscribe, wait until listening, run `then` (in a thread: it is synchronous Django), collect `count` results."""
    results = []

    async def collect():
        async for result in session.subscribe(parse(query), variable_values=variables):
            results.append(result)
            if len(results) == count:
                return

    task = asyncio.create_task(collect())
    await listening(group)
    await off_loop(then)
    await asyncio.wait_for(task, 10)
    return results


def test_resident_follows_their_case_by_tracking_code(server, road_complaint_over_http):
    case, token = road_complaint_over_http

    async def run():
        async with Client(transport=transport(server, token)) as session:
            return await first_results(
                session,
                CASE_UPDATED,
                {"region": "musi-banyuasin", "code": case.tracking_code},
                2,
                group=f"case.{case.pk}",
                then=lambda: (
                    staff_does(server, "acceptCase", case),
                    staff_does(server, "addCaseNote", case, text="internal"),
                    staff_does(server, "startCase", case),
                ),
            )

    results = asyncio.run(run())
    # The internal note between the two moves is not sent to the resident.
    assert [(r["caseUpdated"]["eventType"], r["caseUpdated"]["case"]["status"]) for r in results] == [
        ("accepted", "accepted"),
        ("work_started", "in_progress"),
    ]
    assert "note_added" not in {e["type"] for e in results[1]["caseUpdated"]["case"]["timeline"]}
    assert len({r["caseUpdated"]["notificationId"] for r in results}) == 2


def test_staff_see_internal_events_and_their_agency_queue(server, road_complaint_over_http):
    case, _token = road_complaint_over_http
    supervisor = token_for(staff_user("pupr.kabid"))

    async def run():
        async with Client(transport=transport(server, supervisor)) as session:
            return await first_results(
                session,
                AGENCY_QUEUE,
                {},
                2,
                group=f"agency.{case.agency_id}",
                then=lambda: (
                    staff_does(server, "acceptCase", case),
                    staff_does(server, "addCaseNote", case, text="cek"),
                ),
            )

    results = asyncio.run(run())
    assert [r["agencyQueue"]["eventType"] for r in results] == ["accepted", "note_added"]
    assert results[0]["agencyQueue"]["case"]["agency"] == {"code": "dpupr"}


def test_my_cases(server, road_complaint_over_http):
    case, token = road_complaint_over_http
    resident = case.resident

    async def run():
        async with Client(transport=transport(server, token)) as session:
            return await first_results(
                session,
                MY_CASES,
                {},
                1,
                group=f"user.{resident.pk}",
                then=lambda: staff_does(server, "acceptCase", case),
            )

    (result,) = asyncio.run(run())
    assert result["myCases"]["eventType"] == "accepted"
    assert result["myCases"]["case"]["trackingCode"] == case.tracking_code


def test_my_cases_never_carries_another_residents_case(
    server, road_complaint_over_http, category, places, other_resident
):
    theirs, _token = road_complaint_over_http
    token = token_for(other_resident)
    data = http(server, SUBMIT, {"input": complaint_input(category("jalan-rusak"), *places["lais"])}, token)
    mine = Case.objects.get(tracking_code=data["submitComplaint"]["case"]["trackingCode"])

    def changes():
        staff_does(server, "acceptCase", theirs)  # sent first: it would arrive first if it leaked
        staff_does(server, "acceptCase", mine)

    async def run():
        async with Client(transport=transport(server, token)) as session:
            return await first_results(session, MY_CASES, {}, 1, group=f"user.{other_resident.pk}", then=changes)

    (result,) = asyncio.run(run())
    assert result["myCases"]["case"]["trackingCode"] == mine.tracking_code


def test_another_residents_confidential_case_is_refused(server, demo, category, places, other_resident):
    token = token_for(other_resident)
    data = http(
        server,
        SUBMIT,
        {"input": complaint_input(category("jalan-rusak"), *places["lais"], confidential=True)},
        token,
    )
    code = data["submitComplaint"]["case"]["trackingCode"]
    stranger = token_for(User.objects.get(phone="+6281200000001"))

    async def run():
        async with Client(transport=transport(server, stranger)) as session:
            with pytest.raises(TransportQueryError) as refused:
                async for _result in session.subscribe(
                    parse(CASE_UPDATED), variable_values={"region": "musi-banyuasin", "code": code}
                ):
                    pass
            return refused.value.errors

    errors = asyncio.run(run())
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


def test_a_resident_cannot_follow_an_agency_queue(server, road_complaint_over_http):
    _case, token = road_complaint_over_http

    async def run():
        async with Client(transport=transport(server, token)) as session:
            with pytest.raises(TransportQueryError) as refused:
                async for _result in session.subscribe(parse(AGENCY_QUEUE)):
                    pass
            return refused.value.errors

    assert asyncio.run(run())[0]["extensions"]["code"] == "INVALID"


def test_staff_of_another_region_cannot_follow_a_queue(server, road_complaint_over_http):
    case, _token = road_complaint_over_http
    from graphql_relay import to_global_id

    other = token_for(staff_user("pupr.parepare"))

    async def run():
        async with Client(transport=transport(server, other)) as session:
            with pytest.raises(TransportQueryError) as refused:
                async for _result in session.subscribe(
                    parse("subscription($a: ID) { agencyQueue(agencyId: $a) { eventType } }"),
                    variable_values={"a": to_global_id("Agency", case.agency_id)},
                ):
                    pass
            return refused.value.errors

    assert asyncio.run(run())[0]["extensions"]["code"] == "FORBIDDEN"


# --- the protocol, frame by frame ----------------------------------------------------------------------------------


async def raw(server, *frames, subprotocol="graphql-transport-ws", until=None):
    """Send frames; read until the server closes (or, with `until`, has sent that many messages). Returns the
    messages, the close code and reason (None while open)."""
    protocols = [subprotocol] if subprotocol else None
    async with websockets.connect(f"ws://{server}/graphql", subprotocols=protocols) as socket:
        received = []
        try:  # the server may close before every frame is sent (a refused subprotocol closes at once)
            for frame in frames:
                await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
            while until is None or len(received) < until:
                received.append(json.loads(await asyncio.wait_for(socket.recv(), 5)))
        except websockets.ConnectionClosed:
            pass
        return received, socket.close_code, socket.close_reason


def test_wrong_token_is_forbidden(server, db):
    received, code, _reason = asyncio.run(raw(server, {"type": "connection_init", "payload": {"token": "nonsense"}}))
    assert (received, code) == ([], 4403)


def test_an_expired_token_is_refused_with_a_code_clients_retry(server, resident, settings):
    import jwt

    from backend.accounts.tokens import ALGORITHM, key_id

    session_id = _start_session(resident, ClientInfo()).session_id
    claims = {"iss": settings.JWT_ISSUER, "sub": str(resident.pk), "sid": str(session_id), "typ": "access"}
    claims.update(iat=1, exp=2)
    key = settings.JWT_SIGNING_KEY
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)})
    _received, code, _reason = asyncio.run(raw(server, {"type": "connection_init", "payload": {"token": token}}))
    # 4403, which graphql-ws retries (asking the app's connectionParams for a fresh token); it gives up on 4401.
    assert code == 4403


def test_the_socket_closes_when_its_token_expires(server, resident, settings):
    import time

    import jwt

    from backend.accounts.tokens import ALGORITHM, key_id

    session_id = _start_session(resident, ClientInfo()).session_id
    now = int(time.time())
    claims = {"iss": settings.JWT_ISSUER, "sub": str(resident.pk), "sid": str(session_id), "typ": "access"}
    claims.update(iat=now, exp=now + 2)
    key = settings.JWT_SIGNING_KEY
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)})

    async def run():
        async with websockets.connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 6)
            return socket.close_code, time.time() - now

    code, after = asyncio.run(run())
    assert code == 4403 and 1 <= after <= 4


def test_signing_out_closes_the_socket(server, resident):
    token = token_for(resident)

    async def run():
        async with websockets.connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            await off_loop(http, server, "mutation { signOut { errors { code } } }", None, token)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 5)
            return socket.close_code

    assert asyncio.run(run()) == 4403


def test_protocol_refusals(server, road_complaint_over_http):
    case, _token = road_complaint_over_http
    init = {"type": "connection_init"}
    sub = {"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}}
    assert asyncio.run(raw(server, init, subprotocol=None))[1] == 4406
    # (daphne sends close codes without their reason text)
    assert asyncio.run(raw(server))[1] == 4408
    assert asyncio.run(raw(server, init, init))[1] == 4429
    assert asyncio.run(raw(server, sub))[1] == 4401
    assert asyncio.run(raw(server, init, "not json"))[1] == 4400
    assert asyncio.run(raw(server, init, {"type": "bogus"}))[1] == 4400
    assert asyncio.run(raw(server, init, {"type": "subscribe", "id": "1"}))[1] == 4400
    # An anonymous connection may follow a public case; the same id twice is refused.
    follow = {
        "type": "subscribe",
        "id": "same",
        "payload": {
            "query": 'subscription($c: String) { caseUpdated(region: "16.06", trackingCode: $c) { eventType } }',
            "variables": {"c": case.tracking_code},
        },
    }
    received, code, _reason = asyncio.run(raw(server, init, follow, follow))
    assert (received, code) == ([{"type": "connection_ack"}], 4409)


def test_ping_and_queries_over_the_socket(server, db):
    init = {"type": "connection_init"}
    ping = {"type": "ping", "payload": {"n": 1}}
    query = {"type": "subscribe", "id": "q", "payload": {"query": "{ regions { edges { node { code } } } }"}}
    received, code, _reason = asyncio.run(raw(server, init, ping, query, until=4))
    assert code is None
    assert received[0] == {"type": "connection_ack"}
    assert received[1] == {"type": "pong", "payload": {"n": 1}}
    assert received[2]["type"] == "next" and received[2]["id"] == "q"
    assert received[3] == {"type": "complete", "id": "q"}
    invalid = {"type": "subscribe", "id": "v", "payload": {"query": "subscription { nope }"}}
    received, _code, _reason = asyncio.run(raw(server, init, invalid, until=2))
    assert received[1]["type"] == "error" and received[1]["id"] == "v"
    assert received[1]["payload"][0]["message"].startswith("Cannot query field 'nope'")


# --- one id per change, resuming after a reconnect, keep-alive -----------------------------------------------------

MY_CASES_WITH_FLAG = "subscription { myCases { notificationId eventType replayed } }"
FOLLOW_AFTER = """
subscription($code: String, $after: ID) {
  caseUpdated(region: "musi-banyuasin", trackingCode: $code, after: $after) {
    notificationId eventType replayed case { status }
  }
}
"""


@pytest.fixture(scope="module")
def quick_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """A server that pings after one quiet second, replays at most three notifications, and applies
    `lastNotificationId` to the subscriptions of a connection's first second."""
    log = tmp_path_factory.mktemp("ws-quick") / "daphne.log"
    process = daphne(
        free_port(), log, GRAPHQL_WS_KEEPALIVE_SECONDS=1, GRAPHQL_WS_REPLAY_LIMIT=3, GRAPHQL_WS_RESUME_WINDOW_SECONDS=1
    )
    yield process.host
    process.stop()


def test_one_change_carries_one_notification_id_on_every_subscription(server, road_complaint_over_http):
    case, token = road_complaint_over_http

    async def run():
        async with Client(transport=transport(server, token)) as session:
            results = {}

            async def collect(name, query, variables):
                async for result in session.subscribe(parse(query), variable_values=variables):
                    results[name] = result[name]
                    return

            tasks = [
                asyncio.create_task(collect("caseUpdated", CASE_UPDATED, {"id": to_global_id("Case", case.pk)})),
                asyncio.create_task(collect("myCases", MY_CASES, {})),
            ]
            await listening(f"case.{case.pk}")
            await listening(f"user.{case.resident_id}")
            await off_loop(staff_does, server, "acceptCase", case)
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
            return results

    results = asyncio.run(run())
    event = CaseEvent.objects.get(case=case, type="accepted")
    assert results["caseUpdated"]["notificationId"] == results["myCases"]["notificationId"] == str(event.pk)


def test_a_client_that_comes_back_gets_what_it_missed_then_live_changes(server, road_complaint_over_http):
    case, token = road_complaint_over_http

    async def follow(after, count, then):
        async with Client(transport=transport(server, token)) as session:
            variables = {"code": case.tracking_code, "after": after}
            return await first_results(session, FOLLOW_AFTER, variables, count, group=f"case.{case.pk}", then=then)

    (seen,) = asyncio.run(follow(None, 1, lambda: staff_does(server, "acceptCase", case)))
    assert (seen["caseUpdated"]["eventType"], seen["caseUpdated"]["replayed"]) == ("accepted", False)
    # The app is away (no socket) while staff work on: an internal note, the work started.
    staff_does(server, "addCaseNote", case, text="cek lokasi")
    staff_does(server, "startCase", case)
    last = seen["caseUpdated"]["notificationId"]
    results = asyncio.run(follow(last, 2, lambda: staff_does(server, "resolveCase", case, note="Sudah ditambal.")))
    updates = [r["caseUpdated"] for r in results]
    # What was missed first (not the note: the resident never sees it), then what happens now; nothing twice.
    assert [(u["eventType"], u["replayed"]) for u in updates] == [("work_started", True), ("resolved", False)]
    assert last not in {u["notificationId"] for u in updates}


def test_last_notification_id_in_connection_init_resumes_every_subscription(server, road_complaint_over_http):
    case, token = road_complaint_over_http
    staff_does(server, "acceptCase", case)
    accepted = CaseEvent.objects.get(case=case, type="accepted")
    staff_does(server, "startCase", case)

    async def run():
        connection = transport(server, token)
        connection.init_payload["lastNotificationId"] = str(accepted.pk)
        async with Client(transport=connection) as session:
            async for result in session.subscribe(parse(MY_CASES)):
                return result["myCases"]

    update = asyncio.run(asyncio.wait_for(run(), 10))
    assert update["eventType"] == "work_started"


def test_replay_refusals_are_typed(quick_server, road_complaint_over_http):
    case, token = road_complaint_over_http

    def refused(after):
        async def run():
            async with Client(transport=transport(quick_server, token)) as session:
                with pytest.raises(TransportQueryError) as error:
                    async for _result in session.subscribe(
                        parse(FOLLOW_AFTER), variable_values={"code": case.tracking_code, "after": after}
                    ):
                        pass
                return error.value.errors[0]

        return asyncio.run(asyncio.wait_for(run(), 10))

    assert refused("not-an-id")["extensions"]["code"] == "INVALID"
    assert refused("1\x00")["extensions"]["code"] == "BAD_USER_INPUT"  # refused before it runs, as any NUL
    assert refused(str(2**70))["extensions"]["code"] == "INVALID"
    assert refused("987654321")["extensions"]["code"] == "REPLAY_UNAVAILABLE"  # no such notification
    staff_does(quick_server, "acceptCase", case)
    first = CaseEvent.objects.get(case=case, type="accepted").pk
    for n in range(4):  # more than this server replays (3): the app must reload instead
        staff_does(quick_server, "addCaseNote", case, text=f"catatan {n}")
    staff_does(quick_server, "startCase", case)
    error = refused(str(first))
    assert error["extensions"]["code"] == "REPLAY_UNAVAILABLE"
    assert "Reload" in error["message"] or "Muat" in error["message"]


def test_a_malformed_last_notification_id_closes_with_4400(server, db):
    init = {"type": "connection_init", "payload": {"lastNotificationId": {"id": 1}}}
    assert asyncio.run(raw(server, init))[1] == 4400


def test_the_server_pings_a_quiet_socket(quick_server, db):
    async def run():
        async with websockets.connect(f"ws://{quick_server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            started = asyncio.get_running_loop().time()
            first = json.loads(await asyncio.wait_for(socket.recv(), 5))
            waited = asyncio.get_running_loop().time() - started
            await socket.send(json.dumps({"type": "pong"}))
            second = json.loads(await asyncio.wait_for(socket.recv(), 5))
            return first, second, waited

    first, second, waited = asyncio.run(run())
    assert first == second == {"type": "ping"}
    assert 0.8 <= waited <= 3


def test_last_notification_id_resumes_only_the_subscriptions_a_reconnect_resends(
    quick_server, road_complaint_over_http
):
    """A screen opened later on the same socket is new: it replays nothing, even when the id given at
    connection_init is followed by more than can be replayed."""
    case, token = road_complaint_over_http
    staff_does(quick_server, "acceptCase", case)
    accepted = CaseEvent.objects.get(case=case, type="accepted")
    for n in range(4):
        staff_does(quick_server, "addCaseNote", case, text=f"catatan {n}")  # internal: resident never sees these
    staff_does(quick_server, "startCase", case)

    async def run():
        follow = {"type": "subscribe", "payload": {"query": MY_CASES_WITH_FLAG}}
        init = {"type": "connection_init", "payload": {"token": token, "lastNotificationId": int(accepted.pk)}}
        async with websockets.connect(f"ws://{quick_server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps(init))
            assert json.loads(await socket.recv()) == {"type": "connection_ack"}
            await socket.send(json.dumps({**follow, "id": "at-once"}))  # re-sent at once: resumed (a number works)
            first = json.loads(await asyncio.wait_for(socket.recv(), 5))
            await asyncio.sleep(1.2)
            await socket.send(json.dumps({**follow, "id": "later"}))  # a screen opened later: live only
            await listening(f"user.{case.resident_id}")
            await off_loop(staff_does, quick_server, "resolveCase", case, note="Sudah ditambal.")
            rest = []
            while len(rest) < 2:
                message = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if message["type"] != "ping":  # this server's keep-alive comes after a quiet second
                    rest.append(message)
            return first, rest

    first, rest = asyncio.run(run())
    assert (first["id"], first["type"]) == ("at-once", "next")
    assert first["payload"]["data"]["myCases"]["eventType"] == "work_started"
    assert first["payload"]["data"]["myCases"]["replayed"] is True
    assert sorted((m["id"], m["payload"]["data"]["myCases"]["eventType"]) for m in rest) == [
        ("at-once", "resolved"),
        ("later", "resolved"),
    ]


def test_readiness_answers_at_once_while_sockets_are_open(server, road_complaint_over_http):
    """The probe's channel-layer round trip does not queue behind the open sockets' receive loop."""
    case, token = road_complaint_over_http

    async def run():
        async with Client(transport=transport(server, token)) as session:
            task = asyncio.create_task(
                anext(aiter(session.subscribe(parse(MY_CASES))))  # held open, idle
            )
            await listening(f"user.{case.resident_id}")
            timings = []
            for _ in range(10):
                started = time.monotonic()
                status, body = await off_loop(probe, server)
                timings.append(time.monotonic() - started)
                assert status == 200 and body["checks"]["channel_layer"]["ok"], body
            task.cancel()
            return timings

    timings = asyncio.run(run())
    assert max(timings) < 2, timings


def probe(server) -> tuple[int, dict]:
    with urllib.request.urlopen(f"http://{server}/readyz", timeout=30) as response:
        return response.status, json.load(response)


def test_bad_input_over_the_socket_gets_the_same_typed_error(server, db):
    init = {"type": "connection_init"}
    nul = {
        "type": "subscribe",
        "id": "n",
        "payload": {
            "query": 'subscription($c: String) { caseUpdated(region: "16.06", trackingCode: $c) { eventType } }',
            "variables": {"c": "ADU\x00"},
        },
    }
    deep = '{"type": "subscribe", "id": "d", "payload": {"query": "{ __typename }", "variables": ' + "[" * 3000
    received, _code, _reason = asyncio.run(raw(server, init, nul, until=2))
    assert received[1] == {
        "type": "error",
        "id": "n",
        "payload": [
            {
                "message": "Teks tidak boleh berisi karakter NUL (U+0000) atau surrogate UTF-16 tunggal (U+D800 sampai U+DFFF).",
                "extensions": {"code": "BAD_USER_INPUT", "variable": ["c"]},
            }
        ],
    }
    assert asyncio.run(raw(server, init, deep))[1] == 4400  # not JSON a server can read: malformed


def test_a_token_in_connection_init_headers_is_taken(server, resident):
    """Some clients put the token where an HTTP request has it: `{headers: {Authorization: "Bearer …"}}`."""
    token = token_for(resident)
    init = {"type": "connection_init", "payload": {"headers": {"Authorization": f"Bearer {token}"}}}
    me = {"type": "subscribe", "id": "me", "payload": {"query": "{ me { phone } }"}}
    received, _code, _reason = asyncio.run(raw(server, init, me, until=3))
    assert received[1]["payload"]["data"] == {"me": {"phone": resident.phone}}
    wrong = {"type": "connection_init", "payload": {"headers": {"authorization": "Bearer nonsense"}}}
    assert asyncio.run(raw(server, wrong))[1] == 4403  # refused clearly, not taken as anonymous
