"""Resident sign-in by one-time code: through /graphql, with the code read from the SMS log backend."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.models import OtpChallenge, User

REQUEST = (
    "mutation($p: String!) { requestOtp(phone: $p) {"
    " phone expiresIn resendAfter errors { code field message retryAfter } } }"
)
VERIFY = (
    "mutation($p: String!, $c: String!) { verifyOtp(phone: $p, code: $c) {"
    " accessToken refreshToken user { phone phoneVerified } errors { code field message } } }"
)

pytestmark = pytest.mark.django_db


def sent_code(caplog, phone: str) -> str:
    messages = [r.getMessage() for r in caplog.records if r.name == "simpul.sms" and phone in r.getMessage()]
    assert messages, "no SMS was written to the log"
    return re.search(r"\b(\d{6})\b", messages[-1]).group(1)


def request_code(gql, caplog, phone="0812-3456-7890"):
    caplog.set_level("INFO", logger="simpul.sms")
    data = gql(REQUEST, {"p": phone})["requestOtp"]
    assert data["errors"] == []
    return data, sent_code(caplog, data["phone"])


def test_code_signs_in_and_creates_the_resident(gql, caplog):
    data, code = request_code(gql, caplog)
    assert data["phone"] == "+6281234567890"
    assert data["expiresIn"] == 300
    assert not User.objects.filter(phone="+6281234567890").exists()

    result = gql(VERIFY, {"p": "+62 812 3456 7890", "c": code})["verifyOtp"]
    assert result["errors"] == []
    assert result["user"] == {"phone": "+6281234567890", "phoneVerified": True}
    assert result["accessToken"] and result["refreshToken"].startswith("rt1_")
    me = gql("{ me { phone } }", token=result["accessToken"])
    assert me == {"me": {"phone": "+6281234567890"}}


def test_the_code_is_stored_only_as_a_hash(gql, caplog):
    _data, code = request_code(gql, caplog)
    challenge = OtpChallenge.objects.get()
    assert code not in challenge.code_hash
    assert len(challenge.code_hash) == 64


def test_a_code_works_once(gql, caplog):
    _data, code = request_code(gql, caplog)
    assert gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]["errors"] == []
    again = gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_CODE"]
    assert again["accessToken"] is None


def test_wrong_code_is_refused(gql, caplog):
    _data, code = request_code(gql, caplog)
    wrong = "000000" if code != "000000" else "111111"
    result = gql(VERIFY, {"p": "081234567890", "c": wrong})["verifyOtp"]
    assert result["errors"] == [{"code": "INVALID_CODE", "field": "code", "message": result["errors"][0]["message"]}]
    assert result["accessToken"] is None
    # The right code still works after one mistake.
    assert gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]["errors"] == []


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_codes_are_refused_without_spending_an_attempt(gql, caplog, bad):
    request_code(gql, caplog)
    result = gql(VERIFY, {"p": "081234567890", "c": bad})["verifyOtp"]
    assert [e["code"] for e in result["errors"]] == ["INVALID_CODE"]
    assert OtpChallenge.objects.get().attempts == 0


def test_expired_code_is_refused(gql, caplog):
    _data, code = request_code(gql, caplog)
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    result = gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]
    assert [e["code"] for e in result["errors"]] == ["CODE_EXPIRED"]


def test_too_many_wrong_codes_burn_the_challenge(gql, caplog, settings):
    _data, code = request_code(gql, caplog)
    wrong = "000000" if code != "000000" else "111111"
    codes = [gql(VERIFY, {"p": "081234567890", "c": wrong})["verifyOtp"]["errors"][0]["code"] for _ in range(5)]
    assert codes == ["INVALID_CODE"] * 4 + ["TOO_MANY_ATTEMPTS"]
    # Even the right code no longer works: the attacker cannot keep guessing.
    result = gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]
    assert [e["code"] for e in result["errors"]] == ["TOO_MANY_ATTEMPTS"]
    assert OtpChallenge.objects.get().attempts == 5


def test_a_new_code_replaces_the_old_one(gql, caplog, settings):
    settings.OTP_RESEND_SECONDS = 0
    _data, first = request_code(gql, caplog)
    caplog.clear()
    _data, second = request_code(gql, caplog)
    if first != second:
        result = gql(VERIFY, {"p": "081234567890", "c": first})["verifyOtp"]
        assert [e["code"] for e in result["errors"]] == ["INVALID_CODE"]
    assert gql(VERIFY, {"p": "081234567890", "c": second})["verifyOtp"]["errors"] == []


def test_resend_is_rate_limited_per_phone(gql, caplog):
    request_code(gql, caplog)
    result = gql(REQUEST, {"p": "081234567890"})["requestOtp"]
    [error] = result["errors"]
    assert error["code"] == "RATE_LIMITED"
    assert 0 < error["retryAfter"] <= 60
    assert OtpChallenge.objects.count() == 1


def test_hourly_limit_per_phone(gql, caplog, settings):
    settings.OTP_RESEND_SECONDS = 0
    settings.OTP_PER_PHONE_PER_HOUR = 3
    outcomes = [gql(REQUEST, {"p": "081234567890"})["requestOtp"]["errors"] for _ in range(4)]
    assert outcomes[:3] == [[], [], []]
    assert outcomes[3][0]["code"] == "RATE_LIMITED"


def test_hourly_limit_per_ip_spans_phones(gql, caplog, settings):
    settings.OTP_PER_IP_PER_HOUR = 2
    phones = ["081234567891", "081234567892", "081234567893"]
    outcomes = [gql(REQUEST, {"p": p})["requestOtp"]["errors"] for p in phones]
    assert outcomes[:2] == [[], []]
    assert outcomes[2][0]["code"] == "RATE_LIMITED"
    # Another address is not affected.
    other = gql.post(REQUEST, {"p": "081234567894"}, REMOTE_ADDR="198.51.100.7").json()
    assert other["data"]["requestOtp"]["errors"] == []


def test_verification_is_rate_limited_per_ip(gql, caplog, settings):
    settings.OTP_VERIFY_PER_IP_PER_HOUR = 3
    for phone in ["081234567891", "081234567892", "081234567893"]:
        gql(VERIFY, {"p": phone, "c": "123456"})
    result = gql(VERIFY, {"p": "081234567894", "c": "123456"})["verifyOtp"]
    assert [e["code"] for e in result["errors"]] == ["RATE_LIMITED"]


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("12345", "INVALID_PHONE"),
        ("not a phone", "INVALID_PHONE"),
        ("", "INVALID_PHONE"),
        ("+14155552671", "PHONE_NOT_ALLOWED"),
    ],
)
def test_bad_numbers_are_refused(gql, phone, code):
    result = gql(REQUEST, {"p": phone})["requestOtp"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "phone")]
    assert not OtpChallenge.objects.exists()


def test_no_user_enumeration(gql, caplog, db):
    User.objects.create(phone="+6281234567891", full_name="Existing")
    known = gql(REQUEST, {"p": "081234567891"})["requestOtp"]
    unknown = gql(REQUEST, {"p": "081234567892"})["requestOtp"]
    assert {k: v for k, v in known.items() if k != "phone"} == {k: v for k, v in unknown.items() if k != "phone"}


def test_disabled_account_cannot_sign_in(gql, caplog):
    User.objects.create(phone="+6281234567890", is_active=False)
    _data, code = request_code(gql, caplog)
    result = gql(VERIFY, {"p": "081234567890", "c": code})["verifyOtp"]
    assert [e["code"] for e in result["errors"]] == ["ACCOUNT_DISABLED"]


def test_sms_text_follows_the_request_language(gql, caplog):
    caplog.set_level("INFO", logger="simpul.sms")
    gql(REQUEST, {"p": "081234567890"}, HTTP_ACCEPT_LANGUAGE="id")
    gql.post(REQUEST, {"p": "081234567899"}, HTTP_ACCEPT_LANGUAGE="en")
    texts = [r.getMessage() for r in caplog.records if r.name == "simpul.sms"]
    assert "Kode Simpul Anda" in texts[0]
    assert "Your Simpul code" in texts[1]


# --- while Redis is away --------------------------------------------------------------------------------------------


@pytest.fixture
def broker_away():
    """The Celery broker is known to be unreachable (its breaker is open): nothing waits on it."""
    from backend import breaker

    breaker.BROKER.failed(ConnectionError("refused"))
    yield
    breaker.BROKER.succeeded()


def test_with_the_broker_away_the_code_is_sent_from_the_request(gql, caplog, broker_away):
    data, code = request_code(gql, caplog)
    assert gql(VERIFY, {"p": data["phone"], "c": code})["verifyOtp"]["errors"] == []


def test_with_the_broker_and_the_gateway_away_the_answer_says_when_to_try_again(gql, settings, broker_away):
    from tests.live import free_port

    settings.SMS_BACKEND = "notifications.sms.HttpSMSBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{free_port()}/send"  # nothing listens there
    result = gql(REQUEST, {"p": "081234567890"})["requestOtp"]
    [error] = result["errors"]
    assert error["code"] == "SMS_UNAVAILABLE"
    assert error["retryAfter"] >= 30 and str(error["retryAfter"]) in error["message"]
