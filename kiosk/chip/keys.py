"""Access keys: the MRZ key of BAC and the CAN of PACE (ICAO 9303-11 §4.3.2, §4.4.3.1)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kiosk.chip.errors import BadKey
from kiosk.domain.identity import mrz


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9 check digit; BadKey for a character an MRZ cannot hold.

    The one implementation lives in the domain (the same digit is checked on a zone read from
    a photo): two copies once disagreed on digits from other scripts ('١', '０'), which
    ``str.isdigit`` accepts and an MRZ never holds."""
    try:
        return mrz.check_digit(field)
    except ValueError:
        bad = next(ch for ch in field if not _MRZ_CHAR.fullmatch(ch))
        raise BadKey(f"Ký tự không hợp lệ trong vùng MRZ: {bad!r}.") from None


_MRZ_CHAR = re.compile(r"[0-9A-Z<]")
# ASCII digits only: `\d` would also take digits of other scripts, which no MRZ holds.
_DATE = re.compile(r"^[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$")


@dataclass(frozen=True)
class MrzKey:
    """Document number, date of birth and date of expiry (YYMMDD) as printed in the MRZ."""

    document_number: str
    birth_date: str
    expiry_date: str

    def __post_init__(self):
        number = self.document_number.strip().upper()
        if not re.fullmatch(r"[0-9A-Z<]{1,20}", number):
            raise BadKey("Số giấy tờ trong khoá MRZ không hợp lệ.")
        for label, value in (("sinh", self.birth_date), ("hết hạn", self.expiry_date)):
            if not _DATE.match(value):
                raise BadKey(f"Ngày {label} trong khoá MRZ phải có dạng YYMMDD.")
        object.__setattr__(self, "document_number", number)

    @classmethod
    def parse(cls, text: str) -> MrzKey:
        """'DOCNO:YYMMDD:YYMMDD' (the CLI form)."""
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3:
            raise BadKey("Khoá MRZ phải có dạng SỐ_GIẤY_TỜ:YYMMDD:YYMMDD.")
        return cls(*parts)

    def mrz_information(self) -> str:
        """Document number (padded to 9 with '<'), DOB, expiry, each followed by its check digit.

        A TD1 card whose number is longer than 9 characters puts the rest in the optional data;
        BAC still uses the full number and one check digit over all of it (ICAO 9303-11 §4.3.2).
        """
        number = self.document_number.ljust(9, "<")
        return (number + check_digit(number) + self.birth_date + check_digit(self.birth_date)
                + self.expiry_date + check_digit(self.expiry_date))

    def key_seed(self) -> bytes:
        return hashlib.sha1(self.mrz_information().encode("ascii")).digest()[:16]

    def pace_password(self) -> bytes:
        """PACE with the MRZ as password uses the whole SHA-1 of the MRZ information."""
        return hashlib.sha1(self.mrz_information().encode("ascii")).digest()


def can_from_id_number(id_number: str) -> str:
    """The CAN of a CCCD / căn cước: the last 6 digits of the 12-digit ID number (per readers)."""
    digits = (id_number or "").strip()
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise BadKey("Số định danh phải gồm đúng 12 chữ số.")
    return digits[-6:]


def check_can(can: str) -> str:
    can = (can or "").strip()
    if not re.fullmatch(r"[0-9]{6}", can):
        raise BadKey("Mã CAN phải gồm đúng 6 chữ số.")
    return can
