"""Messages to open WebSocket connections that are not case events: a revoked session closes its sockets."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from notifications.delivery import group_name, publish


def close_sessions(session_ids: Iterable) -> None:
    """After commit, tell every socket of these sessions to close (4403). Best effort: with Redis down the sockets
    close at their next session check instead (GRAPHQL_WS_SESSION_CHECK_SECONDS)."""
    groups = [group_name("session", pk) for pk in session_ids]
    if groups:
        messages = [{"type": "simpul.session_revoked", "group": group} for group in groups]
        transaction.on_commit(lambda: publish(messages), robust=True)
