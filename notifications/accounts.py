"""The delivery side of accounts' effects (backend.accounts.effects, settings.ACCOUNT_EFFECTS): one-time codes by
SMS, and the open sockets of a revoked session closed."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from backend import breaker
from backend.accounts.effects import SmsUnavailable
from notifications.delivery import group_name, publish
from notifications.sms import SMSError, get_sms_backend

logger = logging.getLogger("simpul.notifications")


def send_sms(to: str, text: str) -> None:
    """Queue the SMS for a worker, or, while the broker is away (breaker.BROKER), send it from here."""
    from kombu.exceptions import OperationalError  # Celery's: loaded with the first SMS, not with this module

    from notifications.tasks import send_sms as task

    if breaker.BROKER.available():
        try:
            task.delay(to, text)
        except OperationalError as exc:
            breaker.BROKER.failed(exc)
        else:
            breaker.BROKER.succeeded()
            return
    try:
        get_sms_backend().send(to, text)
    except SMSError as exc:
        raise SmsUnavailable(str(exc)) from exc


def close_sessions(session_ids: Iterable) -> None:
    """After commit, tell every socket of these sessions to close (4403). Best effort: with Redis down the sockets
    close at their next session check instead (GRAPHQL_WS_SESSION_CHECK_SECONDS)."""
    groups = [group_name("session", pk) for pk in session_ids]
    if groups:
        messages = [{"type": "simpul.session_revoked", "group": group} for group in groups]
        transaction.on_commit(lambda: publish(messages), robust=True)
