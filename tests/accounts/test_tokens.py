"""Staff password sign-in, access tokens, refresh-token rotation and reuse detection, sign-out."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from backend.accounts.models import AuthSession
from backend.accounts.tokens import key_id

pytestmark = pytest.mark.django_db

REFRESH = "mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken errors { code field } } }"
SIGN_IN = (
    "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) {"
    " accessToken user { username } errors { code message } } }"
)


def test_staff_sign_in_by_username_or_email(gql, demo):
    by_name = gql(SIGN_IN, {"l": "PUPR.staf", "p": "simpul-demo-2026"})["signIn"]
    assert by_name["errors"] == [] and by_name["user"] == {"username": "pupr.staf"}
    by_email = gql(SIGN_IN, {"l": "pupr.staf@simpul.example", "p": "simpul-demo-2026"})["signIn"]
    assert by_email["errors"] == [] and by_email["accessToken"]


def test_wrong_password_and_unknown_login_look_the_same(gql, demo):
    wrong = gql(SIGN_IN, {"l": "pupr.staf", "p": "nope"})["signIn"]
    unknown = gql(SIGN_IN, {"l": "nobody", "p": "nope"})["signIn"]
    assert wrong == unknown
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS" and wrong["accessToken"] is None


def test_residents_have_no_password(gql, demo):
    result = gql(SIGN_IN, {"l": "+6281200000001", "p": ""})["signIn"]
    assert result["errors"][0]["code"] == "INVALID_CREDENTIALS"


def test_password_guessing_is_limited_per_account(gql, demo, settings):
    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 3
    codes = [gql(SIGN_IN, {"l": "pupr.staf", "p": f"guess{i}"})["signIn"]["errors"][0]["code"] for i in range(4)]
    assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"]
    # Locked even with the right password until the window passes.
    locked = gql(SIGN_IN, {"l": "pupr.staf", "p": "simpul-demo-2026"})["signIn"]
    assert locked["errors"][0]["code"] == "RATE_LIMITED"


def test_username_and_email_share_one_allowance(gql, demo, settings):
    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 4
    logins = ["pupr.staf", "pupr.staf@simpul.example", "PUPR.STAF", "pupr.staf@simpul.example", "pupr.staf"]
    codes = [gql(SIGN_IN, {"l": login, "p": "nope"})["signIn"]["errors"][0]["code"] for login in logins]
    assert codes == ["INVALID_CREDENTIALS"] * 4 + ["RATE_LIMITED"]


def test_a_right_password_costs_no_attempt(gql, demo, settings):
    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 2
    gql(SIGN_IN, {"l": "pupr.staf", "p": "nope"})
    for _ in range(3):
        assert gql(SIGN_IN, {"l": "pupr.staf", "p": "simpul-demo-2026"})["signIn"]["errors"] == []
    assert gql(SIGN_IN, {"l": "pupr.staf", "p": "nope"})["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_check_no_more_passwords_than_the_allowance(demo, settings):
    """Forty wrong passwords at once (the race that once checked 21 against a limit of 10): each attempt is counted,
    atomically, before its password is checked."""
    import threading

    from django.db import connections

    from backend.accounts.services import ClientInfo, sign_in_with_password
    from backend.errors import DomainError

    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 10
    codes, barrier = [], threading.Barrier(40)

    def guess(n):
        try:
            barrier.wait()
            sign_in_with_password(login="pupr.staf", password=f"guess-{n}", client=ClientInfo())
        except DomainError as exc:
            codes.append(str(exc.code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == ["invalid_credentials"] * 10 + ["rate_limited"] * 30


def test_the_admin_login_shares_the_lock_out(gql, demo, settings):
    from django.test import Client

    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 2
    for _ in range(2):
        gql(SIGN_IN, {"l": "admin.muba", "p": "nope"})
    admin = Client()
    response = admin.post("/admin/login/", {"username": "admin.muba", "password": "simpul-demo-2026"})
    assert response.status_code == 200 and "_auth_user_id" not in admin.session  # the form again: not signed in


def test_sign_in_is_limited_per_ip(gql, demo, settings):
    settings.LOGIN_PER_IP_PER_HOUR = 2
    for login in ("a", "b"):
        gql(SIGN_IN, {"l": login, "p": "x"})
    assert gql(SIGN_IN, {"l": "pupr.staf", "p": "simpul-demo-2026"})["signIn"]["errors"][0]["code"] == "RATE_LIMITED"


def test_refresh_rotates_and_the_old_token_is_spent(gql, demo):
    first = gql.sign_in("pupr.staf")
    second = gql(REFRESH, {"t": first["refreshToken"]})["refreshTokens"]
    assert second["errors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert gql("{ me { username } }", token=second["accessToken"]) == {"me": {"username": "pupr.staf"}}
    third = gql(REFRESH, {"t": second["refreshToken"]})["refreshTokens"]
    assert third["errors"] == []


def test_reusing_a_refresh_token_revokes_the_whole_session(gql, demo):
    first = gql.sign_in("pupr.staf")
    rotated = gql(REFRESH, {"t": first["refreshToken"]})["refreshTokens"]
    # An attacker (or a replay) presents the spent token: the family is closed.
    reuse = gql(REFRESH, {"t": first["refreshToken"]})["refreshTokens"]
    assert reuse["errors"] == [{"code": "TOKEN_REUSED", "field": "refreshToken"}]
    assert reuse["accessToken"] is None
    # The legitimate holder's newer tokens die with it.
    after = gql(REFRESH, {"t": rotated["refreshToken"]}, token="")["refreshTokens"]
    assert after["errors"][0]["code"] == "SESSION_REVOKED"
    response = gql.post("{ me { username } }", token=rotated["accessToken"])
    assert response.status_code == 401
    assert AuthSession.objects.get().revoke_reason == "refresh_token_reused"


def test_unknown_and_expired_refresh_tokens(gql, demo):
    assert gql(REFRESH, {"t": "rt1_made-up"})["refreshTokens"]["errors"][0]["code"] == "INVALID_TOKEN"
    first = gql.sign_in("pupr.staf")
    AuthSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert gql(REFRESH, {"t": first["refreshToken"]})["refreshTokens"]["errors"][0]["code"] == "TOKEN_EXPIRED"


def test_sign_out_revokes_access_and_refresh(gql, demo):
    tokens = gql.sign_in("pupr.staf")
    assert gql("mutation { signOut { ok errors { code } } }")["signOut"] == {"ok": True, "errors": []}
    response = gql.post("{ me { username } }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (
        gql(REFRESH, {"t": tokens["refreshToken"]}, token="")["refreshTokens"]["errors"][0]["code"] == "SESSION_REVOKED"
    )


def test_sign_out_everywhere(gql, demo):
    phone = gql.sign_in("pupr.staf")
    laptop = gql.sign_in("pupr.staf")
    sessions = gql("{ me { sessions { current } } }")["me"]["sessions"]
    assert sorted(s["current"] for s in sessions) == [False, True]
    result = gql("mutation { signOutEverywhere { revokedSessions errors { code } } }")["signOutEverywhere"]
    assert result == {"revokedSessions": 2, "errors": []}
    for token in (phone["accessToken"], laptop["accessToken"]):
        assert gql.post("{ me { username } }", token=token).status_code == 401


def test_sign_out_another_session_by_id(gql, demo):
    other = gql.sign_in("pupr.staf")
    gql.sign_in("pupr.staf")
    other_id = str(AuthSession.objects.order_by("created_at").first().pk)
    assert gql("mutation($s: UUID) { signOut(sessionId: $s) { ok } }", {"s": other_id})["signOut"]["ok"]
    assert gql.post("{ me { username } }", token=other["accessToken"]).status_code == 401
    assert gql("{ me { username } }") == {"me": {"username": "pupr.staf"}}


def test_sign_out_cannot_touch_someone_elses_session(gql, demo):
    gql.sign_in("dishub.staf")
    victim = AuthSession.objects.get()
    gql.sign_in("pupr.staf")
    result = gql("mutation($s: UUID) { signOut(sessionId: $s) { ok errors { code field } } }", {"s": str(victim.pk)})
    assert result["signOut"] == {"ok": None, "errors": [{"code": "NOT_FOUND", "field": "sessionId"}]}
    victim.refresh_from_db()
    assert victim.revoked_at is None


def test_mutations_needing_a_user_say_so(gql, demo):
    result = gql("mutation { signOutEverywhere { revokedSessions errors { code message } } }")["signOutEverywhere"]
    assert result["revokedSessions"] is None
    assert result["errors"][0]["code"] == "NOT_AUTHENTICATED"


def _token(claims: dict, key: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id(key)})


def test_expired_access_token_is_refused_with_its_own_code(gql, demo, settings):
    gql.sign_in("pupr.staf")
    session = AuthSession.objects.get()
    now = int(timezone.now().timestamp())
    claims = {
        "iss": "simpul",
        "sub": str(session.user_id),
        "sid": str(session.pk),
        "typ": "access",
        "iat": now - 3600,
        "exp": now - 60,
    }
    response = gql.post("{ me { username } }", token=_token(claims, settings.JWT_SIGNING_KEY))
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"),  # bad signature
        lambda t: "not-a-jwt",
        lambda t: t.split(".")[0] + ".e30.",  # no signature
    ],
)
def test_tampered_tokens_are_refused(gql, demo, mangle):
    token = gql.sign_in("pupr.staf")["accessToken"]
    assert gql.post("{ me { username } }", token=mangle(token)).status_code == 401


def test_tokens_signed_with_another_key_or_for_another_user_are_refused(gql, demo, settings):
    gql.sign_in("pupr.staf")
    session = AuthSession.objects.get()
    now = int(timezone.now().timestamp())
    claims = {
        "iss": "simpul",
        "sub": str(session.user_id),
        "sid": str(session.pk),
        "typ": "access",
        "iat": now,
        "exp": now + 60,
    }
    assert gql.post("{ me { id } }", token=_token(claims, "an-attackers-key-of-some-length-xx")).status_code == 401
    assert (
        gql.post("{ me { id } }", token=_token({**claims, "sub": "999999"}, settings.JWT_SIGNING_KEY)).status_code
        == 401
    )
    assert (
        gql.post("{ me { id } }", token=_token({**claims, "typ": "refresh"}, settings.JWT_SIGNING_KEY)).status_code
        == 401
    )


def test_previous_signing_key_still_verifies_during_rotation(gql, demo, settings):
    old_token = gql.sign_in("pupr.staf")["accessToken"]
    settings.JWT_PREVIOUS_SIGNING_KEYS = [settings.JWT_SIGNING_KEY]
    settings.JWT_SIGNING_KEY = "a-brand-new-signing-key-for-the-rotation-test"
    assert gql("{ me { username } }", token=old_token) == {"me": {"username": "pupr.staf"}}
    settings.JWT_PREVIOUS_SIGNING_KEYS = []
    assert gql.post("{ me { username } }", token=old_token).status_code == 401


def test_malformed_authorization_header(gql, demo):
    response = gql.http.post(
        "/graphql", '{"query": "{ me { id } }"}', content_type="application/json", HTTP_AUTHORIZATION="Basic abc"
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_disabled_user_loses_access_at_once(gql, demo):
    gql.sign_in("pupr.staf")
    AuthSession.objects.get().user.__class__.objects.filter(username="pupr.staf").update(is_active=False)
    assert gql.post("{ me { username } }").status_code == 401


def test_change_password_signs_out_every_session(gql, demo):
    tokens = gql.sign_in("pupr.staf")
    change = (
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {"
        " ok errors { code field } } }"
    )
    weak = gql(change, {"c": "simpul-demo-2026", "n": "123"})["changePassword"]
    assert weak["errors"] == [{"code": "INVALID_INPUT", "field": "newPassword"}]
    wrong = gql(change, {"c": "wrong", "n": "a-much-better-passphrase"})["changePassword"]
    assert wrong["errors"] == [{"code": "INVALID_CREDENTIALS", "field": "currentPassword"}]
    ok = gql(change, {"c": "simpul-demo-2026", "n": "a-much-better-passphrase"})["changePassword"]
    assert ok == {"ok": True, "errors": []}
    assert gql.post("{ me { username } }").status_code == 401
    assert (
        gql(REFRESH, {"t": tokens["refreshToken"]}, token="")["refreshTokens"]["errors"][0]["code"] == "SESSION_REVOKED"
    )
    gql.token = None
    assert gql.sign_in("pupr.staf", "a-much-better-passphrase")["accessToken"]
