"""A local HTTP server that speaks the two Google endpoints firebase-admin uses to push: the OAuth 2 token exchange
of a service account (JWT bearer grant) and FCM HTTP v1 `projects/<id>/messages:send`. It answers as FCM does,
per registration token:

- `unregistered-…`  404 NOT_FOUND with the FcmError UNREGISTERED
- `mismatch-…`      403 PERMISSION_DENIED with SENDER_ID_MISMATCH
- `invalid-…`       400 INVALID_ARGUMENT "The registration token is not a valid FCM registration token"
- `quota-…`         429 RESOURCE_EXHAUSTED with QUOTA_EXCEEDED and `Retry-After: 120`
- `unavailable-…`   503 UNAVAILABLE
- anything else     200 `{"name": "projects/<id>/messages/<n>"}`

`fail_first[token] = n` makes the first n sends to that token answer 503 first. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "simpul-test"


def _fcm_error(http: int, status: str, message: str, error_code: str | None = None) -> tuple[int, dict]:
    error = {"code": http, "message": message, "status": status}
    if error_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}]
    return http, {"error": error}


@dataclass
class Recorded:
    path: str
    headers: dict
    body: dict
    at: float


@dataclass
class FcmServer:
    sends: list[Recorded] = field(default_factory=list)
    token_requests: list[dict] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FcmServer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = key.public_key()
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    server._token(self, raw)
                else:
                    server._send(self, raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def credentials(self) -> str:
        """A service account's JSON whose token endpoint is this server."""
        return json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key",
                "private_key": self.private_pem,
                "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{self.url}/token",
            }
        )

    def reset(self) -> None:
        with self.lock:
            self.sends.clear()
            self.token_requests.clear()
            self.fail_first.clear()
            self.delay = 0.0

    def tokens_sent(self) -> list[str]:
        with self.lock:
            return [r.body["message"]["token"] for r in self.sends]

    # --- endpoints -------------------------------------------------------------------------------------------------

    @staticmethod
    def _reply(handler, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _token(self, handler, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        # The signature is checked; the claims are recorded for the tests to assert on.
        claims = jwt.decode(form["assertion"], self.public_key, algorithms=["RS256"], options={"verify_aud": False})
        with self.lock:
            self.token_requests.append({"form": form, "claims": claims})
        self._reply(handler, 200, {"access_token": "fcm-test-access-token", "expires_in": 3600, "token_type": "Bearer"})

    def _send(self, handler, raw: bytes) -> None:
        if handler.path != f"/v1/projects/{PROJECT}/messages:send":
            self._reply(handler, *_fcm_error(404, "NOT_FOUND", f"Unknown path {handler.path}"))
            return
        if handler.headers.get("Authorization") != "Bearer fcm-test-access-token":
            self._reply(handler, *_fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication."))
            return
        body = json.loads(raw)
        token = body["message"]["token"]
        with self.lock:
            headers = {name.lower(): value for name, value in handler.headers.items()}
            self.sends.append(Recorded(handler.path, headers, body, time.time()))
            failing = self.fail_first.get(token, 0)
            if failing:
                self.fail_first[token] = failing - 1
            number = len(self.sends)
        if self.delay:  # recorded on arrival, answered later: a send can be seen "in flight"
            time.sleep(self.delay)
        if failing or token.startswith("unavailable-"):
            self._reply(handler, *_fcm_error(503, "UNAVAILABLE", "The service is currently unavailable."))
        elif token.startswith("unregistered-"):
            self._reply(handler, *_fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"))
        elif token.startswith("mismatch-"):
            self._reply(handler, *_fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"))
        elif token.startswith("invalid-"):
            self._reply(
                handler,
                *_fcm_error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
            )
        elif token.startswith("quota-"):
            status, error = _fcm_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED")
            self._reply(handler, status, error, {"Retry-After": "120"})
        else:
            self._reply(handler, 200, {"name": f"projects/{PROJECT}/messages/{number}"})
