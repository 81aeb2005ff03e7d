"""Push notifications to phones. With `FIREBASE_CREDENTIALS` (a service account file or its JSON) they go to Firebase
Cloud Messaging through firebase-admin; without, to the log (the embedded default).

A backend's `send(messages)` returns one `PushResult` per message, in order, and never raises for a single bad
token: the caller decides from each result whether to deactivate the device, retry later or give up.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings

logger = logging.getLogger("simpul.push")

FCM_BATCH = 500  # messaging.send_each's limit


@dataclass(frozen=True)
class PushMessage:
    token: str
    platform: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str
    urgent: bool = False


@dataclass(frozen=True)
class PushResult:
    ok: bool
    provider_id: str = ""
    token_invalid: bool = False  # the device's token is dead: deactivate it
    retryable: bool = False  # a passing failure: try again, not before `retry_after` seconds when given
    retry_after: float | None = None
    error: str = ""


class LogPushBackend:
    """Writes each push to the log (development, tests without FCM)."""

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        for message in messages:
            logger.info("Push to %s…: %s — %s %s", message.token[:12], message.title, message.body, message.data)
        return [PushResult(ok=True, provider_id="log") for _m in messages]


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class FcmPushBackend:
    """FCM HTTP v1 through firebase-admin's `send_each`, in batches of at most 500."""

    def __init__(self, credentials_value: str, endpoint: str, timeout: float):
        import firebase_admin
        import requests
        from firebase_admin import credentials, messaging
        from urllib3.util.retry import Retry

        source = json.loads(credentials_value) if credentials_value.lstrip().startswith("{") else credentials_value
        credential = credentials.Certificate(source)
        name = "simpul-" + hashlib.sha256(f"{credentials_value}|{endpoint}".encode()).hexdigest()[:12]
        try:
            app = firebase_admin.get_app(name)
        except ValueError:
            app = firebase_admin.initialize_app(credential, options={"httpTimeout": timeout}, name=name)

        class Service(messaging._MessagingService):  # private, but the only way to set the endpoint
            def __init__(self, app):
                super().__init__(app)
                self._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{app.project_id}/messages:send"
                # Retries belong to the outbox (durable, with backoff that honours Retry-After), not to a worker
                # sleeping inside one HTTP call: only a dropped connection is retried here, once.
                adapter = requests.adapters.HTTPAdapter(
                    pool_connections=10, pool_maxsize=100, max_retries=Retry(connect=1, read=0, status=0, other=0)
                )
                self._client.session.mount(endpoint, adapter)

        self.app = app
        self._messaging = messaging
        self._service = Service(app)

    def _message(self, push: PushMessage):
        m = self._messaging
        return m.Message(
            token=push.token,
            notification=m.Notification(title=push.title, body=push.body),
            data=push.data,
            android=m.AndroidConfig(
                collapse_key=push.collapse_key,
                priority="high" if push.urgent else "normal",
                ttl=timedelta(days=3),
                notification=m.AndroidNotification(tag=push.collapse_key, channel_id="cases"),
            ),
            apns=m.APNSConfig(
                headers={
                    "apns-collapse-id": push.collapse_key,
                    "apns-priority": "10" if push.urgent else "5",
                    "apns-push-type": "alert",
                },
                payload=m.APNSPayload(aps=m.Aps(thread_id=push.collapse_key, sound="default" if push.urgent else None)),
            ),
        )

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(messages), FCM_BATCH):
            batch = messages[start : start + FCM_BATCH]
            response = self._service.send_each([self._message(push) for push in batch])
            results.extend(self._result(item) for item in response.responses)
        return results

    def _result(self, item) -> PushResult:
        from firebase_admin import exceptions, messaging

        if item.success:
            return PushResult(ok=True, provider_id=item.message_id or "")
        error = item.exception
        text = f"{getattr(error, 'code', type(error).__name__)}: {error}"[:500]
        if isinstance(error, (messaging.UnregisteredError, messaging.SenderIdMismatchError)):
            return PushResult(ok=False, token_invalid=True, error=text)
        if isinstance(error, exceptions.InvalidArgumentError) and "registration token" in str(error).lower():
            return PushResult(ok=False, token_invalid=True, error=text)
        if isinstance(
            error,
            (
                exceptions.ResourceExhaustedError,  # QUOTA_EXCEEDED
                exceptions.UnavailableError,
                exceptions.InternalError,
                exceptions.DeadlineExceededError,
                exceptions.UnknownError,
            ),
        ):
            response = getattr(error, "http_response", None)
            after = retry_after_seconds(response.headers.get("Retry-After")) if response is not None else None
            return PushResult(ok=False, retryable=True, retry_after=after, error=text)
        return PushResult(ok=False, error=text)


@lru_cache(maxsize=1)
def get_push_backend():
    if settings.FIREBASE_CREDENTIALS:
        return FcmPushBackend(settings.FIREBASE_CREDENTIALS, settings.FCM_ENDPOINT, settings.FCM_TIMEOUT_SECONDS)
    return LogPushBackend()
