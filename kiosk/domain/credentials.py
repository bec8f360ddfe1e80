"""Password and PIN policy, and argon2id hashing of secrets (pure, no Flask).

The SmartCA login password (step 5) and the 6-digit signing PIN (step 8) protect a legally
binding signature, so weak choices are refused with a reason the customer understands. The
kiosk stores neither, in clear or hashed: they go to the SmartCA backend only. argon2id hashes
the staff's passwords.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import date

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# ---- Password policy -------------------------------------------------------------------------

PASSWORD_RULES: list[tuple[str, str]] = [
    ("length", "Ít nhất 8 ký tự"),
    ("upper", "Có chữ in hoa (A–Z)"),
    ("lower", "Có chữ thường (a–z)"),
    ("digit", "Có chữ số (0–9)"),
    ("special", "Có ký tự đặc biệt, ví dụ @ # $ !"),
    ("personal", "Không chứa số giấy tờ hoặc số điện thoại"),
]
MIN_PASSWORD_LENGTH = 8


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _phone_core(phone_e164: str | None) -> str | None:
    """The 9 digits after +84 / 0: every written form of the number (0912…, 84912…, +84912…)
    contains them, so checking this one string covers all of them."""
    digits = re.sub(r"\D", "", phone_e164 or "")
    if digits.startswith("84"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) >= 8 else None


def _contains_personal(password: str, id_number: str | None, phone_e164: str | None) -> bool:
    upper = password.upper()
    id_clean = re.sub(r"[\s.\-]", "", id_number or "").upper()
    if id_clean and id_clean in upper:
        return True
    core = _phone_core(phone_e164)
    return bool(core and core in password)


def password_checklist(password: str, id_number: str | None = None,
                       phone_e164: str | None = None) -> list[tuple[str, str, bool]]:
    """Every rule with whether ``password`` meets it, in display order (for the live checklist)."""
    password = _nfc(password or "")
    # isupper/islower count Vietnamese letters too (Ă, Đ, ơ …), not only A–Z.
    ok = {
        "length": len(password) >= MIN_PASSWORD_LENGTH,
        "upper": any(ch.isupper() for ch in password),
        "lower": any(ch.islower() for ch in password),
        "digit": any(ch in "0123456789" for ch in password),
        "special": any(not ch.isalnum() and not ch.isspace() for ch in password),
        "personal": not _contains_personal(password, id_number, phone_e164),
    }
    return [(code, label, ok[code]) for code, label in PASSWORD_RULES]


def password_problems(password: str, id_number: str | None = None,
                      phone_e164: str | None = None) -> list[str]:
    """Labels of the rules ``password`` fails; empty list = acceptable."""
    return [label for _, label, ok in password_checklist(password, id_number, phone_e164)
            if not ok]


# ---- PIN policy ------------------------------------------------------------------------------

PIN_LENGTH = 6


def _is_run(pin: str) -> bool:
    """Each digit one more (or one less) than the previous, wrapping 9→0: 123456, 890123, 543210."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


def _birth_date_forms(dob: date) -> set[str]:
    dd, mm, yyyy = f"{dob.day:02d}", f"{dob.month:02d}", f"{dob.year:04d}"
    yy = yyyy[2:]
    return {dd + mm + yy, mm + dd + yy, yy + mm + dd, mm + yyyy, yyyy + mm}


def pin_problems(pin: str, date_of_birth: date | None = None,
                 id_number: str | None = None) -> list[str]:
    """Why ``pin`` is not an acceptable signing PIN (Vietnamese sentences); empty = acceptable."""
    pin = pin or ""
    if not (len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()):
        return [f"Mã PIN phải gồm đúng {PIN_LENGTH} chữ số."]
    problems = []
    if len(set(pin)) == 1:
        problems.append("Mã PIN không được là một chữ số lặp lại (ví dụ 111111).")
    elif _is_run(pin):
        problems.append("Mã PIN không được là dãy số liên tiếp (ví dụ 123456 hoặc 654321).")
    if date_of_birth is not None and pin in _birth_date_forms(date_of_birth):
        problems.append("Mã PIN không được là ngày sinh của quý khách.")
    id_digits = re.sub(r"\D", "", id_number or "")
    if len(id_digits) >= PIN_LENGTH and pin == id_digits[-PIN_LENGTH:]:
        problems.append("Mã PIN không được là 6 số cuối của số giấy tờ.")
    return problems


# ---- Hashing ---------------------------------------------------------------------------------

# OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane): a few tens of ms on the kiosk box.
DEFAULT_HASHER_PARAMS = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
_hasher = PasswordHasher(type=Type.ID, **DEFAULT_HASHER_PARAMS)


def configure_hasher(time_cost: int | None = None, memory_cost: int | None = None,
                     parallelism: int | None = None) -> None:
    """Replace the module's hasher; omitted parameters take the defaults (call with no arguments
    to restore them). Meant for tests, which lower the cost; existing hashes still verify."""
    global _hasher
    params = dict(DEFAULT_HASHER_PARAMS)
    for key, value in (("time_cost", time_cost), ("memory_cost", memory_cost),
                       ("parallelism", parallelism)):
        if value is not None:
            params[key] = value
    _hasher = PasswordHasher(type=Type.ID, **params)


def hash_secret(secret: str) -> str:
    """argon2id hash (PHC string with its own salt and parameters). NFC first, so a Vietnamese
    password typed composed on one keyboard and decomposed on another still matches."""
    return _hasher.hash(_nfc(secret))


def verify_secret(secret_hash: str | None, secret: str | None) -> bool:
    """True only if ``secret`` matches; never raises (wrong secret, empty or corrupt hash)."""
    if not isinstance(secret_hash, str) or not isinstance(secret, str) or not secret_hash:
        return False
    try:
        return _hasher.verify(secret_hash, _nfc(secret))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(secret_hash: str) -> bool:
    """True if the hash was made with other parameters than the current ones (or is unreadable):
    re-hash after the next successful verify_secret."""
    try:
        return _hasher.check_needs_rehash(secret_hash)
    except (InvalidHashError, ValueError):
        return True


# OTP codes are short-lived secrets handled exactly like passwords: same argon2id hashing.
hash_otp = hash_secret
verify_otp = verify_secret
