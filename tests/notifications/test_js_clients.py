"""The JavaScript client a React Native app uses (`graphql-ws`, also under Apollo's GraphQLWsLink and urql's
subscriptionExchange) against a live daphne on PostgreSQL and the Redis channel layer: when the access token
expires, the socket closes with a code the client retries, the client asks the app for a fresh token and reconnects,
and what happened while it was away is replayed from the last notification it saw."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from backend.accounts.services import ClientInfo, _start_session
from backend.accounts.tokens import ALGORITHM, key_id
from backend.cases.models import CaseEvent
from tests.live import JsClient, needs_node, needs_services
from tests.notifications.test_ws import http, listening, road_complaint_over_http, server, staff_does, token_for  # noqa: F401 - fixtures

pytestmark = [needs_services, needs_node, pytest.mark.django_db(transaction=True)]

FOLLOW = """
subscription($code: String) {
  caseUpdated(region: "musi-banyuasin", trackingCode: $code) { notificationId eventType replayed case { status } }
}
"""


def short_lived_token(user, settings, seconds: int) -> str:
    session_id = _start_session(user, ClientInfo()).session_id
    now = int(time.time())
    claims = {"iss": settings.JWT_ISSUER, "sub": str(user.pk), "sid": str(session_id), "typ": "access"}
    claims.update(iat=now, exp=now + seconds)
    key = settings.JWT_SIGNING_KEY
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)})


def following(host, case, token_file, **options) -> JsClient:
    """graphql-ws following `case`, reading its token from `token_file` at every (re)connect."""
    config = {
        "url": f"ws://{host}/graphql",
        "tokenFile": str(token_file),
        "query": FOLLOW,
        "variables": {"code": case.tracking_code},
        **options,
    }
    return JsClient(config, token_file.with_name("node.log"))


def update(report: dict) -> dict:
    return report["result"]["data"]["caseUpdated"]


def test_graphql_ws_renews_its_token_and_misses_nothing(server, road_complaint_over_http, settings, tmp_path):  # noqa: F811
    case, _token = road_complaint_over_http
    token_file = tmp_path / "token"
    token_file.write_text(short_lived_token(case.resident, settings, 4))
    client = following(server, case, token_file, retryWaitMs=1500)
    try:
        assert client.expect("connectionParams")["lastNotificationId"] is None
        client.expect("connected")
        asyncio.run(listening(f"case.{case.pk}"))
        staff_does(server, "acceptCase", case)
        accepted = update(client.expect("next"))
        assert (accepted["eventType"], accepted["replayed"]) == ("accepted", False)
        token_file.write_text(token_for(case.resident))  # the app has a fresh token by now

        assert client.expect("closed", timeout=10)["code"] == 4403  # the first token expired
        staff_does(server, "startCase", case)  # while the client waits to reconnect

        again = client.expect("connectionParams")
        assert (again["n"], again["lastNotificationId"]) == (2, accepted["notificationId"])
        client.expect("connected")
        missed = update(client.expect("next"))
        assert (missed["eventType"], missed["replayed"]) == ("work_started", True)
        assert missed["notificationId"] == str(CaseEvent.objects.get(case=case, type="work_started").pk)

        asyncio.run(listening(f"case.{case.pk}"))
        staff_does(server, "resolveCase", case, note="Sudah ditambal.")
        live = update(client.expect("next"))
        assert (live["eventType"], live["replayed"]) == ("resolved", False)
        assert [r["event"] for r in client.seen].count("next") == 3  # nothing twice
    finally:
        client.stop()


def test_graphql_ws_gives_up_on_a_revoked_session(server, road_complaint_over_http, tmp_path):  # noqa: F811
    """A token whose session was revoked is refused (4403) on every retry; the client gives up after its retries
    and reports the close to the app, which finds it cannot refresh and signs the user in again."""
    case, token = road_complaint_over_http
    http(server, "mutation { signOut { errors { code } } }", None, token)
    token_file = tmp_path / "token"
    token_file.write_text(token)
    client = following(server, case, token_file, retryWaitMs=100, retryAttempts=2)
    try:
        assert client.expect("error", timeout=15)["code"] == 4403
        # The first attempt and two retries, each refused.
        assert [r["code"] for r in client.seen if r["event"] == "closed"] == [4403, 4403, 4403]
    finally:
        client.stop()
