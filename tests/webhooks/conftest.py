"""A receiver of our own process (an HTTP server on loopback) that verifies with the `standardwebhooks` library,
names resolved by a resolver the test controls, and a guard that fails a test at once if anything tries to connect
to an address that is not loopback: these tests send nothing off this machine, even with the SSRF guard broken."""

from __future__ import annotations

import ipaddress
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from backend.accounts.actor import Scope
from backend.integrations import services as integrations
from notifications.webhooks import services
from tests.helpers import staff_actor

NAMES: dict[str, str] = {}  # host name -> address, for the resolver below


def resolve(host, port, *args, **kwargs):
    """getaddrinfo for the names a test declared (and address literals); any other name does not resolve."""
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name") from None
        address = NAMES[host]
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


class OffMachine(AssertionError):
    pass


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Any connection to an address that is not loopback fails the test at once (and is never made)."""
    attempts = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            attempts.append(host)
            raise OffMachine(f"a connection to {host} was attempted")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert attempts == [], f"connections off this machine were attempted: {attempts}"


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    NAMES.clear()
    settings.WEBHOOK_RESOLVER = "tests.webhooks.conftest.resolve"
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from notifications.webhooks import net

    net._resolver.cache_clear()
    yield
    net._resolver.cache_clear()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next planned (status, headers, delay), else 200; verifies every signature."""

    port: int = 0
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    plan: queue.Queue = field(default_factory=queue.Queue)
    unverified: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/simpul"

    def answer(self, *statuses, headers=None, delay=0.0):
        for status in statuses:
            self.plan.put((status, headers or {}, delay))

    def verify(self, item: Received) -> None:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(item.body, item.headers)
                return
            except Exception as exc:
                error = exc
        self.unverified.append(f"{item.headers.get('webhook-id')}: {error}")

    def types(self) -> list[str]:
        return [item.json["type"] for item in self.received]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            item = Received({k.lower(): v for k, v in self.headers.items()}, body)
            state.received.append(item)
            state.verify(item)
            try:
                status, headers, delay = state.plan.get_nowait()
            except queue.Empty:
                status, headers, delay = 200, {}, 0.0
            time.sleep(delay)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def integration(demo):
    """Musi Banyuasin's command centre: reads the region's cases and manages its webhooks."""
    return integrations.create_integration(
        actor=staff_actor("admin.muba"),
        region_id=demo["muba"].pk,
        name="Command Centre",
        contact_email="ops@muba.example",
        scopes=[Scope.READ_CASES, Scope.MANAGE_WEBHOOKS],
    )


@pytest.fixture
def endpoint(integration, receiver):
    """An endpoint of `integration` at `receiver`, every event type; the receiver knows its secret."""
    created, secret = services.create_endpoint(
        actor=staff_actor("admin.muba"),
        integration_id=integration.pk,
        values=services.EndpointInput(url=receiver.url, description="Dashboard"),
    )
    receiver.secrets.append(secret)
    return created
