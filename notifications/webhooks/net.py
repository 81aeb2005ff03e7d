"""Posting to an endpoint without being turned against our own network (SSRF).

The host is resolved at send time; every address it resolves to must be public — not loopback, private, shared
(100.64/10), link-local (cloud metadata at 169.254.169.254), multicast, reserved or unspecified, in IPv4 or IPv6 —
unless the host or address is allow-listed (`WEBHOOK_ALLOWED_HOSTS`). The connection then goes to the address that
was checked, with the URL's host name for `Host` and TLS (SNI and certificate), so a DNS answer that changes between
the check and the connection cannot rebind it. Redirects are not followed; the whole exchange has a deadline; at most
the first KB of the response body is read.

Names resolve through `WEBHOOK_RESOLVER` (a dotted path to a `getaddrinfo`-like function; `socket.getaddrinfo` by
default), so tests can answer for names without any DNS."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

BODY_KEPT = 1024
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
SHARED = ipaddress.ip_network("100.64.0.0/10")


class Refused(Exception):
    """The URL may not be called: `reason` says why (for the delivery log and the API)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@cache
def _resolver():
    return import_string(settings.WEBHOOK_RESOLVER)


def allow_listed(host: str, address=None) -> bool:
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        if entry.lower() == host.lower():
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def forbidden(address) -> bool:
    """An address no webhook may reach unless allow-listed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address in METADATA
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in SHARED)
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address to connect to


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL an endpoint may have: http(s), a host, no credentials; plain http only
    for allow-listed hosts. Refused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(_("the URL cannot be read")) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused(_("the URL must be https://host/…"))
    if port == 0 or any(c.isspace() or ord(c) < 32 for c in url):
        raise Refused(_("the URL has no port 0 and no spaces or control characters"))
    if parts.username or parts.password:
        raise Refused(_("the URL may not carry credentials"))
    if parts.scheme == "http" and not allow_listed(parts.hostname):
        raise Refused(_("plain http is allowed only for allow-listed hosts"))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def target(url: str) -> Target:
    """Resolve the URL's host now and check every address it has."""
    scheme, host, port, path = check_url(url)
    try:
        infos = _resolver()(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(_("%(host)s does not resolve") % {"host": host}) from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if forbidden(address) and not allow_listed(host, address):
            raise Refused(
                _("%(host)s resolves to %(address)s, a private, loopback or otherwise internal address")
                % {"host": host, "address": address}
            )
        addresses.append(address)
    if not addresses:
        raise Refused(_("%(host)s does not resolve") % {"host": host})
    return Target(scheme, host, port, path, str(addresses[0]))


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[Response, float]:
    """POST `body` to the checked address of `url`; returns the response (first KB of its body) and the seconds it
    took. Raises Refused before connecting, or urllib3's errors (timeouts, refused connections, TLS)."""
    checked = target(url)
    host_header = checked.host if checked.port in (80, 443) else f"{checked.host}:{checked.port}"
    options = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if checked.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            checked.address,
            checked.port,
            server_hostname=checked.host,
            assert_hostname=checked.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(checked.address, checked.port, **options)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            checked.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            kept = response.read(BODY_KEPT, decode_content=True)
        finally:
            response.release_conn()
        return (
            Response(response.status, dict(response.headers.items()), kept.decode("utf-8", "replace")),
            time.monotonic() - started,
        )
    finally:
        pool.close()
