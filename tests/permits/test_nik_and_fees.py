"""The NIK rules and the fee language, on their own."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from backend.permits import fees, nik


@pytest.mark.parametrize(
    ("value", "born_on", "female"),
    [
        ("3273011208850003", dt.date(1985, 8, 12), False),  # Kota Bandung, a man
        ("1606014508900001", dt.date(1990, 8, 5), True),  # Musi Banyuasin, a woman (day + 40)
        ("7372 0171 0105 0002", dt.date(2005, 1, 31), True),  # Parepare, spaces allowed
    ],
)
def test_valid_niks(value, born_on, female):
    checked = nik.check_nik(value)
    assert (checked.born_on, checked.female, checked.warnings) == (born_on, female, [])
    assert checked.value == value.replace(" ", "")


def test_unknown_regency_is_a_warning_not_a_refusal():
    checked = nik.check_nik("1660011208850003")  # Sumatera Selatan has no regency 60
    assert checked.warnings and "16.60" in checked.warnings[0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("160601450890001", "16 digits"),  # 15 digits
        ("16060145089000012", "16 digits"),  # 17
        ("16060145089O0001", "16 digits"),  # a letter O
        ("9906014508900001", "province"),  # no province 99
        ("1600014508900001", "00"),
        ("1606013208900001", "date of birth"),  # day 32
        ("1606017208900001", "date of birth"),  # day 72 (a woman's 32)
        ("1606011213900001", "date of birth"),  # month 13
        ("1606013102900001", "date of birth"),  # 31 February
        ("1606014508900000", "0000"),
    ],
)
def test_invalid_niks(value, reason):
    with pytest.raises(nik.NikError) as refused:
        nik.check_nik(value)
    assert reason in str(refused.value)


def test_mask_shows_regency_and_serial_only():
    assert nik.mask("1606014508900001") == "1606••••••••0001"


def test_encryption_rotates_keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    token = nik.encrypt("1606014508900001")
    assert "1606014508900001" not in token
    settings.FIELD_ENCRYPTION_KEYS = [new, old]  # a new key first: old tokens still read, rotation re-encrypts
    assert nik.decrypt(token) == "1606014508900001"
    rotated = nik.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert nik.decrypt(rotated) == "1606014508900001"
    with pytest.raises(nik.NikError):
        nik.decrypt(token)


def test_lookup_hash_is_keyed(settings):
    settings.NIK_HASH_KEY = "one"
    first = nik.lookup_hash("1606014508900001")
    settings.NIK_HASH_KEY = "two"
    assert nik.lookup_hash("1606014508900001") != first and len(first) == 64


ANSWERS = {"luas_bangunan": 120, "jumlah_lantai": 2, "fungsi": "hunian"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"kind": "none"}, 0),
        ({"kind": "fixed", "amount": 250000}, 250000),
        ({"kind": "formula", "expression": "luas_bangunan * 10000"}, 1_200_000),
        ({"kind": "formula", "expression": "max(150000, luas_bangunan * 12500 * (1 + (jumlah_lantai - 1) * 0.25))"},
         1_875_000),
        ({"kind": "formula", "expression": "500000 if jumlah_lantai > 1 and luas_bangunan >= 100 else 100000"}, 500000),
        ({"kind": "formula", "expression": "ceil(luas_bangunan / 7) * 1000.25"}, 18005),  # 18 × 1000.25 = 18004.5
        ({"kind": "table", "field": "luas_bangunan",
          "brackets": [{"upto": 100, "amount": 500000}, {"upto": 500, "amount": 1500000}, {"upto": None, "amount": 5000000}]},
         1_500_000),
    ],
)  # fmt: skip
def test_fee_rules(rule, expected):
    assert fees.amount(rule, ANSWERS) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "luas_bangunan.__class__",
        "open('/etc/passwd')",
        "[x for x in (1, 2)]",
        "(lambda: 1)()",
        "fungsi[0]",
        "max(luas_bangunan, key=abs)",
        "'a' * 10**9",
        "",
        "1 +",
    ],
)
def test_formulas_that_reach_beyond_arithmetic_do_not_parse(expression):
    with pytest.raises(fees.FeeError):
        fees.parse_formula(expression)


def test_formula_errors_on_answers():
    with pytest.raises(fees.FeeError, match="number"):
        fees.amount({"kind": "formula", "expression": "fungsi * 2"}, ANSWERS)
    with pytest.raises(fees.FeeError, match="answer"):
        fees.amount({"kind": "formula", "expression": "tinggi * 2"}, ANSWERS)
    with pytest.raises(fees.FeeError, match="zero"):
        fees.amount({"kind": "formula", "expression": "1 / (jumlah_lantai - 2)"}, ANSWERS)
    with pytest.raises(fees.FeeError, match="below zero"):
        fees.amount({"kind": "formula", "expression": "0 - luas_bangunan"}, ANSWERS)
    assert fees.formula_fields("max(luas_bangunan, jumlah_lantai * 2)") == {"luas_bangunan", "jumlah_lantai"}


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "fixed", "amount": -1},
        {"kind": "fixed", "amount": "100"},
        {"kind": "table", "field": "x", "brackets": [{"upto": 10, "amount": 1}]},  # no open-ended last bracket
        {"kind": "table", "field": "x", "brackets": [{"upto": 10, "amount": 1}, {"upto": 5, "amount": 2}, {"upto": None, "amount": 3}]},
        {"kind": "bribe"},
    ],
)  # fmt: skip
def test_bad_fee_rules(rule):
    with pytest.raises(fees.FeeError):
        fees.check_rule(rule)
