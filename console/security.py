"""The console's Content-Security-Policy: scripts, styles and everything else from this site only (no inline
script or style), map tiles from the configured tile server, the WebSocket of live updates, no framing, forms posting
here only."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings


def policy() -> str:
    tiles = urlsplit(settings.CONSOLE_TILE_URL.replace("{s}.", "*."))  # subdomains a, b, c: a wildcard
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.netloc else ""
    socket = urlsplit(settings.CONSOLE_WEBSOCKET_URL)
    socket_origin = f" {socket.scheme}://{socket.netloc}" if socket.netloc else ""  # else 'self' covers ws(s):
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{tile_origin}",
            f"connect-src 'self'{socket_origin}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def content_security_policy(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = policy()
        return response

    return wrapped
