"""Text messages (one-time codes). The backend is pluggable: `SMS_BACKEND` names a class with `send(to, text)`.

- `LogSMSBackend` (embedded default): writes the message to the log, where a developer reads the code.
- `HttpSMSBackend`: POSTs JSON `{"to": "+62…", "text": "…"}` with a bearer token to `SMS_HTTP_URL`, the shape most
  Indonesian SMS gateways (or a small adapter in front of one) accept.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("simpul.sms")


class SMSError(Exception):
    pass


class LogSMSBackend:
    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class HttpSMSBackend:
    timeout_seconds = 10

    def send(self, to: str, text: str) -> None:
        body = json.dumps({"to": to, "text": text}).encode()
        # SMS_HTTP_URL is checked to be http(s) at start-up (settings), so no file: or custom scheme gets here.
        request = urllib.request.Request(  # noqa: S310
            settings.SMS_HTTP_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise SMSError(f"SMS gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SMSError(f"SMS gateway unreachable: {exc}") from exc


@lru_cache(maxsize=1)
def _backend_class(path: str):
    return import_string(path)


def get_sms_backend():
    return _backend_class(settings.SMS_BACKEND)()
