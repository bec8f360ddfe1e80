"""When may a CCCD number read by OCR off the card front be trusted?

Pure (no vision, no Flask). The 12-digit number is structured (see :mod:`id_numbers`):
digits 1–3 the province where the birth was registered, digit 4 the century of birth and sex
(0/1 = 1900s male/female, 2/3 = 2000s, …, even = male), digits 5–6 the last two digits of the
birth year. The date of birth and the sex are printed on their own lines of the same front, so
reading them separately and finding that they agree with digits 4–6 is what makes a 12-digit
OCR read trustworthy; a number whose date of birth could not be read is therefore refused.

The six random digits 7–12 carry no check digit: only the machine-readable zone of the back
(its personal number, when given) or a second independent reading can vouch for them — the
OCR side (``kiosk.vision.printed_number``) asks several readings to agree before calling this.
"""
from __future__ import annotations

import unicodedata
from datetime import date

from kiosk.domain.identity.id_numbers import PROVINCES

# Problem codes (stable: the reader and the bench count them)
NOT_12_DIGITS = "not_12_digits"
UNKNOWN_PROVINCE = "unknown_province"
NO_DATE_OF_BIRTH = "no_date_of_birth"
CENTURY_MISMATCH = "century_mismatch"  # digit 4 says another century than the printed date
BIRTH_YEAR_MISMATCH = "birth_year_mismatch"  # digits 5–6 ≠ the printed year's last two digits
SEX_MISMATCH = "sex_mismatch"  # digit 4 says the other sex than the printed word
MRZ_MISMATCH = "mrz_mismatch"  # the back's machine-readable zone carries another number

PROBLEMS = (NOT_12_DIGITS, UNKNOWN_PROVINCE, NO_DATE_OF_BIRTH, CENTURY_MISMATCH,
            BIRTH_YEAR_MISMATCH, SEX_MISMATCH, MRZ_MISMATCH)

_SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ", "male": "Nam", "female": "Nữ", "m": "Nam",
          "f": "Nữ"}


def _sex(value: str | None) -> str | None:
    if not value:
        return None
    return _SEXES.get(unicodedata.normalize("NFC", value).strip().lower())


def century_digit(birth_year: int, sex: str) -> int:
    """Digit 4 of the number for a holder born in ``birth_year`` of ``sex`` ("Nam"/"Nữ")."""
    return 2 * ((birth_year - 1900) // 100) + (0 if _sex(sex) == "Nam" else 1)


def printed_id_problems(number: str | None, date_of_birth: date | None,
                        sex: str | None = None,
                        personal_number: str | None = None) -> tuple[str, ...]:
    """Why an OCR'd CCCD ``number`` must not be accepted (empty = it may be accepted).

    ``date_of_birth`` and ``sex`` ("Nam"/"Nữ", None when not read) come from their own printed
    lines; ``personal_number`` is the 12-digit number of the back's machine-readable zone
    (TD1 optional data), when that was read.
    """
    digits = (number or "").strip()
    if not (len(digits) == 12 and digits.isascii() and digits.isdigit()):
        return (NOT_12_DIGITS,)
    problems: list[str] = []
    if digits[:3] not in PROVINCES:
        problems.append(UNKNOWN_PROVINCE)
    code = int(digits[3])
    if date_of_birth is None:
        problems.append(NO_DATE_OF_BIRTH)
    else:
        if 1900 + 100 * (code // 2) != date_of_birth.year // 100 * 100:
            problems.append(CENTURY_MISMATCH)
        if digits[4:6] != f"{date_of_birth.year % 100:02d}":
            problems.append(BIRTH_YEAR_MISMATCH)
    read_sex = _sex(sex)
    if read_sex is not None and read_sex != ("Nam" if code % 2 == 0 else "Nữ"):
        problems.append(SEX_MISMATCH)
    if personal_number is not None and personal_number.strip() != digits:
        problems.append(MRZ_MISMATCH)
    return tuple(problems)


def accept_printed_id(number: str | None, date_of_birth: date | None, sex: str | None = None,
                      personal_number: str | None = None) -> str | None:
    """``number`` when :func:`printed_id_problems` finds nothing wrong with it, else None."""
    if printed_id_problems(number, date_of_birth, sex, personal_number):
        return None
    return number.strip()
