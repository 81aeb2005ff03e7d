"""Messages to open WebSocket connections that are not case events: a revoked session closes its sockets."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.delivery import group_name

logger = logging.getLogger("simpul.notifications")


def close_sessions(session_ids: Iterable) -> None:
    """After commit, tell every socket of these sessions to close (4403). Best effort: with Redis down the sockets
    close at their next session check instead (GRAPHQL_WS_SESSION_CHECK_SECONDS)."""
    ids = [str(pk) for pk in session_ids]
    if ids:
        transaction.on_commit(lambda: _send(ids), robust=True)


def _send(ids: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for session_id in ids:
        try:
            async_to_sync(layer.group_send)(group_name("session", session_id), {"type": "simpul.session_revoked"})
        except Exception:
            logger.warning("Could not tell the sockets of session %s to close", session_id, exc_info=True)
