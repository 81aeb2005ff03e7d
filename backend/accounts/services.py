"""Sign-in, tokens and devices. Every expected refusal is a DomainError with an AuthErrorCode / DeviceErrorCode."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import ratelimit
from backend.accounts import effects
from backend.accounts.backends import check_login
from backend.accounts.errors import AuthErrorCode, DeviceErrorCode
from backend.accounts.models import (
    AuthSession,
    Device,
    Language,
    Membership,
    OtpChallenge,
    Platform,
    RefreshToken,
    User,
)
from backend.accounts.phones import PhoneError, normalise_phone
from backend.accounts.tokens import TokenPair, hash_refresh_token, issue_access_token, new_refresh_token
from backend.errors import DomainError

logger = logging.getLogger("simpul.accounts")


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, for rate limits and the session list."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request) -> ClientInfo:
        """The caller of an HTTP request: the socket's address, or the one `TRUSTED_PROXY_COUNT` proxies put in
        X-Forwarded-For."""
        ip = request.META.get("REMOTE_ADDR") or None
        hops = settings.TRUSTED_PROXY_COUNT
        if hops:
            forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
            if len(forwarded) >= hops:
                ip = forwarded[-hops]
        return cls(ip=ip, user_agent=request.META.get("HTTP_USER_AGENT", ""))


# --- one-time codes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtpSent:
    phone: str
    expires_in: int
    resend_after: int


def _otp_limits() -> tuple[ratelimit.Limit, ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit("otp-resend", 1, settings.OTP_RESEND_SECONDS) if settings.OTP_RESEND_SECONDS else None,
        ratelimit.Limit("otp-phone", settings.OTP_PER_PHONE_PER_HOUR, 3600),
        ratelimit.Limit("otp-ip", settings.OTP_PER_IP_PER_HOUR, 3600),
    )


def _code_hash(challenge_id, code: str) -> str:
    key = hashlib.sha256(("otp:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _parse_phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except PhoneError as exc:
        if exc.reason == "not_allowed":
            raise DomainError(
                AuthErrorCode.PHONE_NOT_ALLOWED, _("Codes can only be sent to Indonesian numbers."), field="phone"
            ) from None
        raise DomainError(
            AuthErrorCode.INVALID_PHONE, _("Enter a mobile number such as 0812 3456 7890."), field="phone"
        ) from None


def _rate_limited(verdict: ratelimit.Verdict) -> DomainError:
    return DomainError(
        AuthErrorCode.RATE_LIMITED,
        _("Too many attempts. Try again in %(seconds)d seconds.") % {"seconds": verdict.retry_after},
        retry_after=verdict.retry_after,
    )


def request_otp(*, phone: str, client: ClientInfo) -> OtpSent:
    """Send a sign-in code by SMS. The answer is the same whether or not the number has an account."""
    e164 = _parse_phone(phone)
    resend, per_phone, per_ip = _otp_limits()
    if client.ip:
        verdict = ratelimit.hit(per_ip, client.ip)
        if not verdict.allowed:
            raise _rate_limited(verdict)
    for limit in (resend, per_phone):
        if limit is not None:
            verdict = ratelimit.hit(limit, e164)
            if not verdict.allowed:
                raise _rate_limited(verdict)

    code = "".join(secrets.choice("0123456789") for _i in range(settings.OTP_LENGTH))
    now = timezone.now()
    challenge = OtpChallenge(
        phone=e164, created_at=now, expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS), ip=client.ip
    )
    challenge.code_hash = _code_hash(challenge.id, code)
    text = _(
        "Your Simpul code is %(code)s. It expires in %(minutes)d minutes. Never share it, not even with staff."
    ) % {
        "code": code,
        "minutes": max(1, settings.OTP_TTL_SECONDS // 60),
    }
    with transaction.atomic():
        # A new code replaces any earlier one still open for the number.
        OtpChallenge.objects.filter(phone=e164, consumed_at__isnull=True).update(consumed_at=now)
        challenge.save()
    _send_sms(e164, text)  # after COMMIT (a mutation's service runs outside any transaction)
    return OtpSent(phone=e164, expires_in=settings.OTP_TTL_SECONDS, resend_after=settings.OTP_RESEND_SECONDS)


def _send_sms(to: str, text: str) -> None:
    """Queue the SMS (or send it, while the broker is away: notifications.accounts); when neither works, the caller
    is told to try again (the code is stored, but nobody can read it)."""
    try:
        effects.send_sms(to, text)
    except effects.SmsUnavailable as exc:
        logger.error("SMS to %s could not be sent: %s", to, exc)
        wait = max(settings.OTP_RESEND_SECONDS, 30)
        raise DomainError(
            AuthErrorCode.SMS_UNAVAILABLE,
            _("The code could not be sent just now. Try again in %(seconds)d seconds.") % {"seconds": wait},
            retry_after=wait,
        ) from None


def verify_otp(*, phone: str, code: str, client: ClientInfo) -> TokenPair:
    """Check a code; on success the resident is signed in (and their account created on first sign-in)."""
    e164 = _parse_phone(phone)
    if client.ip:
        verdict = ratelimit.hit(ratelimit.Limit("otp-verify-ip", settings.OTP_VERIFY_PER_IP_PER_HOUR, 3600), client.ip)
        if not verdict.allowed:
            raise _rate_limited(verdict)
    code = (code or "").strip()
    invalid = DomainError(AuthErrorCode.INVALID_CODE, _("That code is not right."), field="code")
    if not code.isdigit() or len(code) != settings.OTP_LENGTH:
        raise invalid
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone=e164, consumed_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if challenge is None:
            raise invalid
        if challenge.expires_at <= now:
            raise DomainError(AuthErrorCode.CODE_EXPIRED, _("The code has expired. Ask for a new one."), field="code")
        if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
            raise DomainError(
                AuthErrorCode.TOO_MANY_ATTEMPTS, _("Too many wrong codes. Ask for a new one."), field="code"
            )
        if not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.id, code)):
            # Counted in its own committed statement: the refusal below must not roll the count back.
            OtpChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
            failed = True
        else:
            OtpChallenge.objects.filter(pk=challenge.pk).update(consumed_at=now, attempts=F("attempts") + 1)
            failed = False
    if failed:
        if challenge.attempts + 1 >= settings.OTP_MAX_ATTEMPTS:
            raise DomainError(
                AuthErrorCode.TOO_MANY_ATTEMPTS, _("Too many wrong codes. Ask for a new one."), field="code"
            )
        raise invalid
    with transaction.atomic():
        user, _created = User.objects.get_or_create(phone=e164)
        if not user.is_active:
            raise DomainError(AuthErrorCode.ACCOUNT_DISABLED, _("This account has been disabled."))
        if user.phone_verified_at is None:
            user.phone_verified_at = now
            user.save(update_fields=["phone_verified_at"])
        return _start_session(user, client, now=now)


# --- passwords (staff) ---------------------------------------------------------------------------------------------


def sign_in_with_password(*, login: str, password: str, client: ClientInfo) -> TokenPair:
    """Staff sign-in by username or email, for the API: a session with its tokens."""
    user = check_password_sign_in(login=login, password=password, client=client)
    with transaction.atomic():
        return _start_session(user, client)


def check_password_sign_in(*, login: str, password: str, client: ClientInfo) -> User:
    """The account a staff sign-in names, under the per-address limit and the per-account lock-out (the API's and
    the console's). Wrong login and wrong password get the same answer."""
    login = (login or "").strip().lower()
    per_ip = ratelimit.Limit("login-ip", settings.LOGIN_PER_IP_PER_HOUR, 3600)
    if client.ip:
        verdict = ratelimit.hit(per_ip, client.ip)
        if not verdict.allowed:
            raise _rate_limited(verdict)
    # The per-account lock-out, shared with the admin's login form (the authentication backend).
    user, verdict = check_login(login, password or "")
    if not verdict.allowed:
        raise _rate_limited(verdict)
    if user is None:
        raise DomainError(AuthErrorCode.INVALID_CREDENTIALS, _("Wrong username, email or password."))
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change a staff password; every session of the user, this one included, is signed out. Guesses of the current
    password count against the account's sign-in allowance (the lock-out), so a stolen session cannot try many."""
    found, verdict = check_login(user.username, current_password or "")
    if not verdict.allowed:
        raise _rate_limited(verdict)
    if found is None or found.pk != user.pk or not user.has_usable_password():
        raise DomainError(
            AuthErrorCode.INVALID_CREDENTIALS, _("The current password is wrong."), field="currentPassword"
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise DomainError(AuthErrorCode.INVALID_INPUT, " ".join(exc.messages), field="newPassword") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_all_sessions(user=user, reason="password_changed")


# --- sessions and refresh tokens -----------------------------------------------------------------------------------


def _start_session(user: User, client: ClientInfo, *, now: datetime | None = None) -> TokenPair:
    now = now or timezone.now()
    session = AuthSession.objects.create(
        user=user,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.JWT_REFRESH_TTL_SECONDS),
        user_agent=client.user_agent[:300],
        ip=client.ip,
    )
    User.objects.filter(pk=user.pk).update(last_login=now)
    return _issue_pair(session, now)


def _issue_pair(session: AuthSession, now: datetime) -> TokenPair:
    refresh, refresh_hash = new_refresh_token()
    RefreshToken.objects.create(session=session, token_hash=refresh_hash)
    access, access_expires = issue_access_token(session, now=now)
    return TokenPair(
        access_token=access,
        access_expires_at=access_expires,
        refresh_token=refresh,
        refresh_expires_at=session.expires_at,
        session_id=session.id,
        user=session.user,
    )


def refresh_session(*, refresh_token: str, client: ClientInfo) -> TokenPair:
    """Trade a refresh token for a new pair. A token used twice means it leaked: its whole session is revoked."""
    now = timezone.now()
    invalid = DomainError(AuthErrorCode.INVALID_TOKEN, _("Sign in again."), field="refreshToken")
    token = (
        RefreshToken.objects.select_related("session__user")
        .filter(token_hash=hash_refresh_token(refresh_token or ""))
        .first()
    )
    if token is None:
        raise invalid
    session = token.session
    if session.revoked_at is not None:
        raise DomainError(
            AuthErrorCode.SESSION_REVOKED, _("This session was signed out. Sign in again."), field="refreshToken"
        )
    if session.expires_at <= now:
        raise DomainError(
            AuthErrorCode.TOKEN_EXPIRED, _("Your session has expired. Sign in again."), field="refreshToken"
        )
    if not session.user.is_active:
        raise DomainError(AuthErrorCode.ACCOUNT_DISABLED, _("This account has been disabled."))
    with transaction.atomic():
        # The conditional UPDATE is the race guard: of two requests presenting the same token, one wins.
        won = RefreshToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now)
        if not won:
            AuthSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
                revoked_at=now, revoke_reason="refresh_token_reused"
            )
    if not won:
        effects.close_sessions([session.pk])
        raise DomainError(
            AuthErrorCode.TOKEN_REUSED,
            _("This sign-in was used from somewhere else, so it has been closed for your safety. Sign in again."),
            field="refreshToken",
        )
    with transaction.atomic():
        AuthSession.objects.filter(pk=session.pk).update(
            last_used_at=now, ip=client.ip or session.ip, user_agent=(client.user_agent or session.user_agent)[:300]
        )
        return _issue_pair(session, now)


def start_browser_session(*, user: User, client: ClientInfo) -> AuthSession:
    """The sign-in session of a browser signed in to the staff console. Its cookie stands for the refresh token, so
    it has none; it names the short access tokens with which the console's pages follow live changes over the
    WebSocket (browser_access_token), and it ends like any session: signed out, signed out everywhere, password
    changed."""
    now = timezone.now()
    return AuthSession.objects.create(
        user=user,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.SESSION_COOKIE_AGE),
        user_agent=client.user_agent[:300],
        ip=client.ip,
    )


def _live_browser_session(user: User, session_id):
    return AuthSession.objects.filter(pk=session_id, user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


def browser_session_live(*, user: User, session_id) -> bool:
    """The browser's session has not been ended (nor run out)."""
    return _live_browser_session(user, session_id).exists()


def browser_access_token(*, user: User, session_id) -> tuple[str, datetime]:
    """A short access token for the browser's live session (SESSION_REVOKED once it has ended)."""
    session = _live_browser_session(user, session_id).first()
    if session is None:
        raise DomainError(AuthErrorCode.SESSION_REVOKED, _("This session has ended. Sign in again."))
    return issue_access_token(session)


def revoke_session(*, user: User, session_id, reason: str = "signed_out") -> None:
    """End one of the user's own sessions; someone else's (or an unknown one) is NOT_FOUND."""
    ended = AuthSession.objects.filter(pk=session_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoke_reason=reason
    )
    if not ended:
        raise DomainError(AuthErrorCode.NOT_FOUND, _("No such active session on your account."), field="sessionId")
    effects.close_sessions([session_id])


def revoke_all_sessions(*, user: User, reason: str = "signed_out_everywhere") -> int:
    """End every session of the user; their open WebSockets close too."""
    with transaction.atomic():
        live_sessions = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
        ids = list(live_sessions.select_for_update().values_list("pk", flat=True))
        ended = AuthSession.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoke_reason=reason)
        effects.close_sessions(ids)
    return ended


# --- profile -------------------------------------------------------------------------------------------------------


def update_profile(*, user: User, full_name: str | None = None, language: str | None = None) -> User:
    fields = []
    if full_name is not None:
        name = " ".join(full_name.split())
        if len(name) > 150:
            raise DomainError(
                AuthErrorCode.INVALID_INPUT, _("The name is too long (150 characters at most)."), field="fullName"
            )
        user.full_name = name
        fields.append("full_name")
    if language is not None:
        if language not in Language.values:
            raise DomainError(AuthErrorCode.INVALID_INPUT, _("Unknown language."), field="language")
        user.language = language
        fields.append("language")
    if fields:
        user.save(update_fields=fields)
    return user


# --- devices -------------------------------------------------------------------------------------------------------


def register_device(
    *, user: User, token: str, platform: str, language: str = Language.ID, app_version: str = ""
) -> Device:
    """Register (or refresh) the push token of the caller's device. A token that moved to another account
    (a shared or resold phone) now belongs to the caller only."""
    token = (token or "").strip()
    if not token or len(token) > 512 or any(c.isspace() for c in token):
        raise DomainError(DeviceErrorCode.INVALID_TOKEN, _("That is not a push token."), field="token")
    if platform not in Platform.values:
        raise DomainError(DeviceErrorCode.INVALID_TOKEN, _("Unknown platform."), field="platform")
    if language not in Language.values:
        language = Language.ID
    defaults = {
        "user": user,
        "platform": platform,
        "language": language,
        "app_version": (app_version or "")[:32],
        "last_seen_at": timezone.now(),
        "active": True,
    }
    try:
        with transaction.atomic():
            device, _created = Device.objects.update_or_create(token=token, defaults=defaults)
    except IntegrityError:  # the same token registered by a parallel request: update the row it created
        device, _created = Device.objects.update_or_create(token=token, defaults=defaults)
    return device


def unregister_device(*, user: User, token: str) -> None:
    deleted, _rows = Device.objects.filter(Q(token=(token or "").strip()) & Q(user=user)).delete()
    if not deleted:
        raise DomainError(DeviceErrorCode.NOT_FOUND, _("No such device on your account."), field="token")


# --- memberships (roles) -------------------------------------------------------------------------------------------


def save_membership(*, actor, membership: Membership) -> Membership:
    """Grant or change a staff role: region admins within their region, superusers anywhere."""
    if not actor.administers(membership.region_id):
        raise DomainError(AuthErrorCode.FORBIDDEN, _("Only an admin of this region may grant its roles."))
    try:
        membership.full_clean()
    except ValidationError as exc:
        raise DomainError(AuthErrorCode.INVALID_INPUT, " ".join(exc.messages)) from None
    membership.save()
    return membership


def delete_membership(*, actor, membership: Membership) -> None:
    if not actor.administers(membership.region_id):
        raise DomainError(AuthErrorCode.FORBIDDEN, _("Only an admin of this region may remove its roles."))
    membership.delete()
