"""The NIK (Nomor Induk Kependudukan): checking one, keeping it encrypted, finding it again, showing it masked.

A NIK is 16 digits: `PP KK CC DDMMYY SSSS` — province, regency/city, district (kecamatan), date of birth (the day
plus 40 for women), and a serial number. It is personal data (UU 27/2022): it is stored encrypted (Fernet: AES-128
in CBC with an HMAC, under keys that can be rotated), looked up through a keyed hash (HMAC-SHA256), and shown masked
(`1606••••••••0001`) to everyone but the staff handling the application, each of whose unmasked views is written on
the case's timeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

# Kemendagri province codes, with how many kabupaten (codes 01…) and kota (codes 71…) each has had. A regency code
# outside these ranges is unusual but not impossible (old and split regions), so it is a warning, not a refusal.
# Papua (91) and Papua Barat (92) keep their pre-2022 ranges: NIKs issued there before the split still carry them.
PROVINCES: dict[str, tuple[int, int]] = {
    "11": (18, 5), "12": (25, 8), "13": (12, 7), "14": (10, 2), "15": (9, 2), "16": (13, 4), "17": (9, 1),
    "18": (13, 2), "19": (6, 1), "21": (5, 2), "31": (1, 5), "32": (18, 9), "33": (29, 6), "34": (4, 1),
    "35": (29, 9), "36": (4, 4), "51": (8, 1), "52": (8, 2), "53": (21, 1), "61": (12, 2), "62": (13, 1),
    "63": (11, 2), "64": (7, 3), "65": (4, 1), "71": (11, 4), "72": (12, 1), "73": (21, 3), "74": (15, 2),
    "75": (5, 1), "76": (6, 0), "81": (9, 2), "82": (8, 2), "91": (28, 1), "92": (12, 1), "93": (4, 0),
    "94": (8, 0), "95": (8, 0), "96": (5, 1),
}  # fmt: skip


class NikError(ValueError):
    """Why a NIK is not valid; `str()` is a translated sentence."""


@dataclass(frozen=True)
class CheckedNik:
    value: str
    born_on: dt.date | None
    female: bool
    warnings: list[str] = field(default_factory=list)


def check_nik(raw: str) -> CheckedNik:
    """A valid NIK, normalised (spaces and dots removed), with warnings; NikError when it cannot be one."""
    value = "".join(ch for ch in (raw or "") if ch not in " .-")
    if len(value) != 16 or not value.isdigit():
        raise NikError(_("A NIK has 16 digits."))
    province, regency, district = value[0:2], value[2:4], value[4:6]
    if province not in PROVINCES:
        raise NikError(_("The NIK starts with %(code)s, which is no province code.") % {"code": province})
    if regency == "00" or district == "00":
        raise NikError(_("The NIK's regency and district codes cannot be 00."))
    day, month, year = int(value[6:8]), int(value[8:10]), int(value[10:12])
    female = day > 40
    if female:
        day -= 40
    if not (1 <= day <= 31) or not (1 <= month <= 12):
        raise NikError(_("The NIK's date of birth (digits 7 to 12) is not a date."))
    born_on = _birth_date(day, month, year)
    if born_on is None:
        raise NikError(_("The NIK's date of birth (digits 7 to 12) is not a date."))
    if value[12:] == "0000":
        raise NikError(_("The NIK's last four digits cannot be 0000."))
    kabupaten, kota = PROVINCES[province]
    number = int(regency)
    warnings = []
    if not (number <= kabupaten or 71 <= number <= 70 + kota):
        warnings.append(
            _("Regency/city code %(code)s is not known to us; check the NIK against the KTP.")
            % {"code": f"{province}.{regency}"}
        )
    return CheckedNik(value=value, born_on=born_on, female=female, warnings=warnings)


def _birth_date(day: int, month: int, year: int) -> dt.date | None:
    """The two-digit year in the last hundred years."""
    today = dt.date.today()
    century = 2000 if year <= today.year % 100 else 1900
    try:
        return dt.date(century + year, month, day)
    except ValueError:
        return None


def mask(value: str) -> str:
    """`1606••••••••0001`: the regency and the serial number, nothing that identifies the person on its own."""
    return f"{value[:4]}{'•' * 8}{value[12:]}" if len(value) == 16 else "•" * len(value)


# --- keeping it ----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(value: str) -> str:
    """Encrypted under the first (current) key."""
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypted with whichever configured key made it."""
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise NikError(_("This NIK cannot be read with the configured keys.")) from None


def rotate(token: str) -> str:
    """Re-encrypted under the current key (after a new key was put first in FIELD_ENCRYPTION_KEYS)."""
    return _fernet(_keys()).rotate(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """A keyed hash to find applications by NIK without decrypting them; without the key it reveals nothing."""
    return hmac.new(settings.NIK_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
