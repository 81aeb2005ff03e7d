"""Access tokens (short-lived JWT, HS256, PyJWT) and refresh tokens (opaque, rotated on every use).

An access token names its sign-in session (`sid`); authenticating a request loads the session and its user in one
query, so logging out or a detected refresh-token reuse takes effect at once, not when the token expires.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.utils import timezone

from backend import compiled
from backend.accounts.models import AuthSession

ALGORITHM = "HS256"
REFRESH_PREFIX = "rt1_"


class TokenError(Exception):
    """`reason`: 'invalid', 'expired' or 'revoked'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    session_id: uuid.UUID
    user: object


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _verification_keys() -> dict[str, str]:
    keys = [settings.JWT_SIGNING_KEY, *settings.JWT_PREVIOUS_SIGNING_KEYS]
    return {key_id(k): k for k in keys}


def issue_access_token(session: AuthSession, *, now: datetime | None = None) -> tuple[str, datetime]:
    now = now or timezone.now()
    expires = now + timedelta(seconds=settings.JWT_ACCESS_TTL_SECONDS)
    claims = {
        "iss": settings.JWT_ISSUER,
        "sub": str(session.user_id),
        "sid": str(session.id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    key = settings.JWT_SIGNING_KEY
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)}), expires


def decode_access_token(token: str) -> dict:
    """The verified claims, or TokenError('expired' | 'invalid')."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("invalid") from None
    key = _verification_keys().get(header.get("kid", ""))
    if key is None:
        raise TokenError("invalid")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("expired") from None
    except jwt.PyJWTError:
        raise TokenError("invalid") from None
    if claims.get("typ") != "access":
        raise TokenError("invalid")
    return claims


def authenticate_access_token(token: str) -> AuthSession:
    """The live session named by a valid access token (its user joined in), or TokenError."""
    claims = decode_access_token(token)
    try:
        session_id = uuid.UUID(claims["sid"])
    except ValueError:
        raise TokenError("invalid") from None
    # Every signed-in request runs this look-up: its SQL is compiled once per process and thread.
    session = compiled.first("session-with-user", _session_with_user, session_id)
    if session is None or str(session.user_id) != claims["sub"]:
        raise TokenError("invalid")
    if session.revoked_at is not None or not session.user.is_active:
        raise TokenError("revoked")
    return session


def _session_with_user(session_id):
    return AuthSession.objects.select_related("user").filter(pk=session_id)


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash stored for it."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
