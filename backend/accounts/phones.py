"""Phone numbers as E.164, with Indonesian local forms (08…, 62…, +62…) understood."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class PhoneError(ValueError):
    """`reason` is 'invalid' (not a phone number) or 'not_allowed' (a country we do not send codes to)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise_phone(raw: str) -> str:
    text = (raw or "").strip()
    if text.startswith("62") and not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise PhoneError("invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid")
    if phonenumbers.region_code_for_number(number) not in settings.OTP_ALLOWED_COUNTRIES:
        raise PhoneError("not_allowed")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+6281234567890 → +62812•••••890: enough for a person to recognise their own number."""
    if len(e164) <= 8:
        return e164
    return e164[:6] + "•" * (len(e164) - 9) + e164[-3:]
