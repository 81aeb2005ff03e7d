"""Password sign-in for staff (and the admin site) by username or email, case-insensitively, with the lock-out.

The lock-out counts per account, not per login text: a username and an e-mail of one account share one allowance
(LOGIN_PER_ACCOUNT_PER_HOUR). Every attempt is counted before its password is checked, in one atomic step of the
shared cache, so parallel guesses cannot check more passwords than the allowance; a right password gives its attempt
back. While locked, no password is checked, the right one included. The API tells a locked account apart from a wrong
password (`check_login`'s verdict); the admin's login form, which asks Django's `authenticate`, does not."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from backend import ratelimit
from backend.accounts.models import User


def _limit() -> ratelimit.Limit:
    return ratelimit.Limit("login-account", settings.LOGIN_PER_ACCOUNT_PER_HOUR, 3600)


def _account(login: str) -> tuple[User | None, str]:
    """The account a login text names (username or e-mail), and what its attempts are counted under."""
    user = User.objects.filter(Q(username=login) | Q(email=login)).first() if login else None
    return user, (f"user:{user.pk}" if user is not None else f"login:{login}")


def check_login(login: str, password: str) -> tuple[User | None, ratelimit.Verdict]:
    """The active account whose username or e-mail is `login` and whose password is `password`, or None; and this
    attempt's verdict (not allowed: the account is locked, and no password was checked)."""
    login = (login or "").strip().lower()
    user, counted_as = _account(login)
    verdict = ratelimit.hit(_limit(), counted_as)
    if not verdict.allowed:
        return None, verdict
    if user is None:
        # Spend the time a real check would, so response time does not reveal which logins exist.
        User().set_password(password)
        return None, verdict
    if user.check_password(password) and user.is_active:
        ratelimit.give_back(_limit(), counted_as)  # a right password costs no attempt
        return user, verdict
    return None, verdict


class StaffLoginBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username or kwargs.get("email")
        if not login or password is None:
            return None
        user, _verdict = check_login(login, password)
        return user if user is not None and self.user_can_authenticate(user) else None
