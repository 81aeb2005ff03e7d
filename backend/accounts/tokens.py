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

from backend import sql
from backend.accounts.models import AuthSession, User

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
    # Every signed-in request runs this look-up: one named statement.
    found = SESSION_WITH_USER.first(sql.param(AuthSession, "id", session_id))
    if found is None:
        raise TokenError("invalid")
    session, user = found
    session.user = user
    if str(session.user_id) != claims["sub"]:
        raise TokenError("invalid")
    if session.revoked_at is not None or not session.user.is_active:
        raise TokenError("revoked")
    return session


SESSION_COLUMNS = ("id", "user_id", "created_at", "last_used_at", "expires_at", "revoked_at", "revoke_reason")
SESSION_COLUMNS += ("user_agent", "ip")
USER_COLUMNS = ("id", "password", "last_login", "is_superuser", "username", "email", "phone", "phone_verified_at")
USER_COLUMNS += ("full_name", "language", "is_active", "is_staff", "date_joined")
SESSION_WITH_USER = sql.Statement(
    "session-with-user",
    f"SELECT {sql.columns('s', SESSION_COLUMNS)}, {sql.columns('u', USER_COLUMNS)}"  # noqa: S608 - our names
    " FROM accounts_authsession s JOIN accounts_user u ON u.id = s.user_id WHERE s.id = %s",
    (sql.Part(AuthSession, SESSION_COLUMNS), sql.Part(User, USER_COLUMNS)),
)


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash stored for it."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
