"""The WebSocket at `/graphql`: GraphQL over the `graphql-transport-ws` protocol (the one Apollo, urql, `graphql-ws`
and Python's `gql` speak), served by Channels.

The protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), as implemented here:
- The client must offer the subprotocol `graphql-transport-ws`; otherwise the socket closes with 4406.
- `connection_init` within GRAPHQL_WS_INIT_TIMEOUT_SECONDS (else 4408), once (a second one: 4429). Its payload may
  carry `{"authorization": "Bearer <access token>"}` (or `{"token": "<access token>"}`); without one the connection
  is anonymous (public cases only). It may carry `lastNotificationId`: the subscriptions that start within
  GRAPHQL_WS_RESUME_WINDOW_SECONDS (those a client re-sends on reconnecting) then replay what was missed since
  (schema.subscriptions). The server answers `connection_ack`.
- A token that is expired, not valid, or whose session was revoked: 4403, at `connection_init` or later, while the
  socket is open (at expiry; at once on sign-out, sign-out everywhere, a password change, a reused refresh token; at
  the latest at the next session check, GRAPHQL_WS_SESSION_CHECK_SECONDS, if the revocation message was lost).
  `graphql-ws` retries 4403 (and treats 4401 as final): it reconnects and asks the app's `connectionParams` again,
  where the app puts a fresh token, or finds it cannot refresh and signs the user out.
- `subscribe` before the ack: 4401, as the protocol says. An id already running: 4409. Anything malformed: 4400.
  Each operation answers with `next` messages and a `complete`, or an `error` message when it cannot start
  (validation, permission, a replay that is not available).
- `ping` is answered with `pong`; `complete` from the client stops that subscription. The server sends `ping` when
  it has sent nothing for GRAPHQL_WS_KEEPALIVE_SECONDS, so proxies that close quiet connections do not.

Execution: the subscription's source stream runs on the event loop (it only waits on channel-layer messages); each
event's payload, like queries and mutations sent over the socket, is executed in a worker thread with the
synchronous ORM, exactly as over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast
from graphql.execution import create_source_event_stream
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend import breaker
from backend.accounts.actor import Actor
from backend.accounts.models import AuthSession
from backend.accounts.tokens import TokenError, authenticate_access_token, decode_access_token
from notifications.delivery import group_name
from schema import schema as api_schema
from schema.context import GraphQLContext
from schema.limits import checked_document, input_errors
from schema.subscriptions import SkipEvent
from schema.views import SimpulGraphQLView

logger = logging.getLogger("simpul.graphql.ws")

PROTOCOL = "graphql-transport-ws"
QUEUE_SIZE = 1000  # events waiting for one slow subscription before the oldest are dropped


class ScopeRequest:
    """What the GraphQL context needs of a request, taken from the WebSocket's handshake."""

    def __init__(self, scope):
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        client = scope.get("client") or (None, None)
        self.META = {
            "REMOTE_ADDR": client[0] or "",
            "HTTP_USER_AGENT": headers.get("user-agent", ""),
            "HTTP_X_FORWARDED_FOR": headers.get("x-forwarded-for", ""),
            "HTTP_ACCEPT_LANGUAGE": headers.get("accept-language", ""),
        }
        secure = scope.get("scheme") == "wss" or (
            settings.SECURE_PROXY_SSL_HEADER is not None and headers.get("x-forwarded-proto") == "https"
        )
        self._origin = f"{'https' if secure else 'http'}://{headers.get('host', 'localhost')}"

    def build_absolute_uri(self, location: str) -> str:
        return location if "://" in location else self._origin + location


class SocketContext(GraphQLContext):
    """The GraphQL context of one connection: its session and actor, the groups its subscriptions listen to, and the
    notification its subscriptions resume after (`lastNotificationId` of `connection_init`)."""

    def __init__(self, consumer: GraphQLWSConsumer, session: AuthSession | None, resume_after: str | None):
        super().__init__(ScopeRequest(consumer.scope), session)
        self.consumer = consumer
        self._resume_after = resume_after
        self._resume_until = asyncio.get_running_loop().time() + settings.GRAPHQL_WS_RESUME_WINDOW_SECONDS

    @property
    def resume_after(self) -> str | None:
        """`lastNotificationId`, for the subscriptions that start within GRAPHQL_WS_RESUME_WINDOW_SECONDS of the
        connection: the ones a client re-sends as it reconnects. One started later (a screen opened afterwards) is
        new, not resumed: it replays only with its own `after`."""
        if asyncio.get_running_loop().time() <= self._resume_until:
            return self._resume_after
        return None

    async def listen(self, group: str) -> Listener:
        return await self.consumer.listen(group)


class Listener:
    """The messages sent to one group, for one subscription, from the moment it was made. `aclose()` (also when it
    was never iterated) stops listening, and leaves the group when no other subscription of the socket is in it."""

    def __init__(self, consumer: GraphQLWSConsumer, group: str):
        self.consumer, self.group = consumer, group
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.closed = False

    def __aiter__(self) -> Listener:
        return self

    async def __anext__(self) -> dict:
        if self.closed:
            raise StopAsyncIteration
        return await self.queue.get()

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self.consumer.stop_listening(self)


def _language(scope, session: AuthSession | None, payload: dict) -> str:
    choices = {code for code, _name in settings.LANGUAGES}
    wanted = payload.get("language")
    if wanted in choices:
        return wanted
    for name, value in scope["headers"]:
        if name.lower() == b"accept-language":
            for lang, _q in translation.trans_real.parse_accept_lang_header(value.decode("latin-1")):
                if lang.split("-")[0] in choices:
                    return lang.split("-")[0]
    if session is not None and session.user.language in choices:
        return session.user.language
    return settings.LANGUAGE_CODE


class ClientGone(Exception):
    """A frame could not be sent: the socket closed under it (its disconnect is on the way)."""


def _error(message: str, code: str) -> dict:
    return {"message": message, "extensions": {"code": code}}


def _resume_after(payload: dict) -> str | None:
    """`lastNotificationId` of the init payload (a string; a number is taken as its digits); ValueError otherwise."""
    value = payload.get("lastNotificationId")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("lastNotificationId must be a string")


def _token(payload: dict) -> str | None:
    """The access token of a connection_init payload: `authorization` ("Bearer …"), `token`, or, as some clients send
    it, `headers.Authorization`."""
    headers = payload.get("headers")
    if isinstance(headers, dict):
        payload = {**{k.lower(): v for k, v in headers.items() if isinstance(k, str)}, **payload}
    header = payload.get("authorization") or payload.get("Authorization")
    if isinstance(header, str) and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    token = payload.get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


def _authenticate(token: str) -> tuple[AuthSession, float, Actor]:
    session = authenticate_access_token(token)
    expires = decode_access_token(token)["exp"]
    actor = Actor.for_user(session.user)
    actor.agency_roles  # noqa: B018 - load the roles here, off the event loop
    return session, expires, actor


def _session_still_valid(session_id) -> Actor | None:
    session = AuthSession.objects.select_related("user").filter(pk=session_id, revoked_at__isnull=True).first()
    if session is None or not session.user.is_active:
        return None
    actor = Actor.for_user(session.user)
    actor.agency_roles  # noqa: B018
    return actor


class GraphQLWSConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        """Run the connection; when the channel layer's Redis goes away, close with 4503 (service unavailable: try
        again), which clients retry, instead of failing with 1011, which graphql-ws treats as final (and 1013, Try
        Again Later, is a code daphne does not let an application send)."""
        try:
            await super().__call__(scope, receive, send)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            breaker.CHANNEL_LAYER.failed(exc)  # logged once per outage, not per socket
            await self._stop_everything()
            await send({"type": "websocket.close", "code": 4503})

    async def connect(self):
        self.context: SocketContext | None = None
        self.language = settings.LANGUAGE_CODE
        self.init_received = False
        self.operations: dict[str, asyncio.Task] = {}
        self.listeners: dict[str, set[Listener]] = {}
        self.timers: list[asyncio.TimerHandle | asyncio.Task] = []
        self.last_sent = asyncio.get_running_loop().time()
        if PROTOCOL not in self.scope.get("subprotocols", []):
            await self.accept()
            await self.close(code=4406, reason="Subprotocol not acceptable")
            return
        await self.accept(subprotocol=PROTOCOL)
        self.timers.append(asyncio.create_task(self._init_deadline()))

    async def _init_deadline(self):
        await asyncio.sleep(settings.GRAPHQL_WS_INIT_TIMEOUT_SECONDS)
        if self.context is None:
            await self.close(code=4408, reason="Connection initialisation timeout")

    async def disconnect(self, code):
        await self._stop_everything()

    async def _stop_everything(self):
        for timer in getattr(self, "timers", []):
            timer.cancel()
        for task in list(getattr(self, "operations", {}).values()):
            task.cancel()
        for group in list(getattr(self, "listeners", {})):
            await self._leave(group)

    # --- frames ----------------------------------------------------------------------------------------------------

    async def send_json(self, message: dict) -> None:
        text = json.dumps(message, default=str)
        try:
            await self.send(text_data=text)
        except Exception as exc:  # the server could not send: the client has gone (daphne: autobahn's Disconnected)
            raise ClientGone from exc
        self.last_sent = asyncio.get_running_loop().time()

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data) if text_data is not None else None
            kind = message["type"]
        except (TypeError, ValueError, KeyError, RecursionError):  # not JSON, not a message, nested thousands deep
            await self.close(code=4400, reason="Invalid message received")
            return
        handler = {
            "connection_init": self._connection_init,
            "ping": self._ping,
            "pong": self._pong,
            "subscribe": self._subscribe,
            "complete": self._complete,
        }.get(kind)
        if handler is None:
            await self.close(code=4400, reason=f"Invalid message type {str(kind)[:40]!r}")
            return
        await handler(message)

    async def _connection_init(self, message):
        if self.init_received:
            await self.close(code=4429, reason="Too many initialisation requests")
            return
        self.init_received = True
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.close(code=4400, reason="The connection_init payload must be an object")
            return
        try:
            resume_after = _resume_after(payload)
        except ValueError as exc:
            await self.close(code=4400, reason=str(exc))
            return
        session, actor = None, Actor.anonymous()
        token = _token(payload)
        if token is not None:
            try:
                session, expires, actor = await database_sync_to_async(_authenticate)(token)
            except TokenError as exc:
                await self.close(code=4403, reason="Token expired" if exc.reason == "expired" else "Forbidden")
                return
            self.timers.append(asyncio.create_task(self._expire_at(expires)))
            await self.join(group_name("session", session.pk))
        self.language = _language(self.scope, session, payload)
        self.context = SocketContext(self, session, resume_after)
        self.context.__dict__["actor"] = actor  # the cached_property, filled with the roles loaded above
        self.timers.append(asyncio.create_task(self._maintain(session.pk if session else None)))
        await self.send_json({"type": "connection_ack"})
        self.timers.append(asyncio.create_task(self._keepalive(settings.GRAPHQL_WS_KEEPALIVE_SECONDS)))

    async def _ping(self, message):
        pong = {"type": "pong"}
        if isinstance(message.get("payload"), dict):
            pong["payload"] = message["payload"]
        await self.send_json(pong)

    async def _pong(self, message):
        return

    async def _subscribe(self, message):
        if self.context is None:
            await self.close(code=4401, reason="Unauthorized")
            return
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            await self.close(code=4400, reason="A subscribe message needs an id and a payload")
            return
        if op_id in self.operations:
            await self.close(code=4409, reason=f"Subscriber for {op_id[:40]} already exists")
            return
        query, variables, operation_name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
        ):
            await self.close(code=4400, reason="query must be a string, variables an object")
            return
        if len(self.operations) >= settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS:
            limit = settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS
            await self._error(op_id, [_error(f"At most {limit} operations per connection.", "TOO_MANY_SUBSCRIPTIONS")])
            return
        task = asyncio.create_task(self._run(op_id, query, variables or {}, operation_name))
        self.operations[op_id] = task

    async def _complete(self, message):
        task = self.operations.get(message.get("id"))
        if task is not None:
            task.cancel()

    async def _error(self, op_id: str, errors: list[dict]) -> None:
        await self.send_json({"type": "error", "id": op_id, "payload": errors})

    # --- operations ------------------------------------------------------------------------------------------------

    def _execute(self, document, root_value, variables, operation_name) -> dict | None:
        """The operation's result, formatted; None for a subscription event this subscriber may not see."""
        with translation.override(self.language):
            result = execute(
                api_schema.graphql_schema,
                document,
                root_value=root_value,
                context_value=self.context,
                variable_values=variables,
                operation_name=operation_name,
            )
            if result.errors and all(isinstance(e.original_error, SkipEvent) for e in result.errors):
                return None
            return self._formatted(result)

    @staticmethod
    def _formatted(result: ExecutionResult) -> dict:
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [SimpulGraphQLView.format_error(error) for error in result.errors]
        return body

    async def _run(self, op_id, query, variables, operation_name):
        stream = None
        try:
            document, errors = checked_document(query)
            errors = errors or input_errors(document, variables)
            if errors:
                await self._error(op_id, [SimpulGraphQLView.format_error(error) for error in errors])
                return
            operation = get_operation_ast(document, operation_name)
            if operation is None:
                await self._error(op_id, [_error("Name the operation to run.", "BAD_REQUEST")])
                return
            if operation.operation != OperationType.SUBSCRIPTION:
                body = await database_sync_to_async(self._execute)(document, None, variables, operation_name)
                await self.send_json({"type": "next", "id": op_id, "payload": body})
                await self.send_json({"type": "complete", "id": op_id})
                return
            with translation.override(self.language):
                stream = await create_source_event_stream(
                    api_schema.graphql_schema,
                    document,
                    context_value=self.context,
                    variable_values=variables,
                    operation_name=operation_name,
                )
            if isinstance(stream, ExecutionResult):
                await self._error(op_id, self._formatted(stream)["errors"])
                stream = None
                return
            async for event in stream:
                body = await database_sync_to_async(self._execute)(document, event, variables, operation_name)
                if body is not None:
                    await self.send_json({"type": "next", "id": op_id, "payload": body})
            await self.send_json({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except ClientGone:
            logger.debug("A subscription's client went away while it was sent an update")
        except GraphQLError as exc:
            await self._error(op_id, [SimpulGraphQLView.format_error(exc)])
        except Exception as exc:
            logger.error("Unexpected error in a GraphQL subscription", exc_info=exc)
            await self._error(op_id, [_error("Internal server error.", "INTERNAL_SERVER_ERROR")])
        finally:
            if stream is not None:
                await stream.aclose()
            self.operations.pop(op_id, None)

    # --- groups ----------------------------------------------------------------------------------------------------

    async def join(self, group: str) -> None:
        if group not in self.listeners:
            self.listeners[group] = set()
            await self.channel_layer.group_add(group, self.channel_name)
            breaker.CHANNEL_LAYER.succeeded()

    async def _leave(self, group: str) -> None:
        self.listeners.pop(group, None)
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except (RedisConnectionError, RedisTimeoutError) as exc:  # gone while closing: the membership expires
            breaker.CHANNEL_LAYER.failed(exc)

    async def listen(self, group: str) -> Listener:
        """The messages sent to `group` from the moment this returns, for one subscription."""
        await self.join(group)
        listener = Listener(self, group)
        self.listeners[group].add(listener)
        return listener

    async def stop_listening(self, listener: Listener) -> None:
        listeners = self.listeners.get(listener.group)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners and not listener.group.startswith("session."):
                await self._leave(listener.group)

    async def simpul_notify(self, message):
        for listener in self.listeners.get(message.get("group"), ()):
            if listener.queue.full():
                listener.queue.get_nowait()
                logger.warning("Subscription on %s too slow: dropped its oldest event", message.get("group"))
            listener.queue.put_nowait(message)

    async def simpul_session_revoked(self, message):
        await self.close(code=4403, reason="Session revoked")

    # --- the session -----------------------------------------------------------------------------------------------

    async def _expire_at(self, expires: float):
        await asyncio.sleep(max(0.0, expires - time.time()))
        await self.close(code=4403, reason="Token expired")

    async def _keepalive(self, interval: int):
        """Send `ping` whenever nothing has been sent for `interval` seconds (0: never)."""
        if not interval:
            return
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, self.last_sent + interval - loop.time()))
            if loop.time() - self.last_sent >= interval:
                await self.send_json({"type": "ping"})

    async def _maintain(self, session_id):
        """Every GRAPHQL_WS_SESSION_CHECK_SECONDS: renew the group memberships (the channel layer expires them after
        a day, and a restarted Redis has lost them) and, for a signed-in connection, check that its session still
        stands (the backstop for a lost revocation message) and reload the subscriber's roles."""
        while True:
            await asyncio.sleep(settings.GRAPHQL_WS_SESSION_CHECK_SECONDS)
            if session_id is not None:
                try:
                    actor = await database_sync_to_async(_session_still_valid)(session_id)
                except Exception:  # the database away: keep the socket, check again next time
                    logger.warning("Could not check session %s", session_id, exc_info=True)
                    continue
                if actor is None:
                    await self.close(code=4403)
                    return
                self.context.__dict__["actor"] = actor
            for group in list(self.listeners):
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                except (RedisConnectionError, RedisTimeoutError) as exc:  # Redis away: try again next time
                    breaker.CHANNEL_LAYER.failed(exc)
