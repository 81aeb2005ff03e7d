"""What accounts need done beyond their own tables: an SMS sent, the open sockets of a revoked session closed. The
delivery layer carries them out: the module `settings.ACCOUNT_EFFECTS` names (notifications.accounts), imported
on first use, provides the functions below; accounts import no delivery code."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache
from types import ModuleType

from django.conf import settings


class SmsUnavailable(Exception):
    """The SMS could neither be queued nor sent just now."""


@cache
def _provider() -> ModuleType:
    return importlib.import_module(settings.ACCOUNT_EFFECTS)


def send_sms(to: str, text: str) -> None:
    """Send (or queue) an SMS; SmsUnavailable when that cannot be done now."""
    _provider().send_sms(to, text)


def close_sessions(session_ids: Iterable) -> None:
    """After COMMIT, close the open sockets of these sessions (best effort)."""
    _provider().close_sessions(session_ids)
