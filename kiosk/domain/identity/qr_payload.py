"""Parse the QR code printed on the chip CCCD card.

Payload: fields separated by ``|``, in order
    12-digit CCCD | old 9-digit CMND (may be empty) | full name | date of birth ddmmyyyy |
    gender Nam/Nữ | permanent address | issue date ddmmyyyy
Some cards and readers add or drop a field, so at least 7 fields are required and any extra
ones are ignored. Text is trimmed and normalised to NFC.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import date

from kiosk.domain.identity.errors import IdentityError, nfc
from kiosk.domain.identity.id_numbers import IdType, normalize_id_number
from kiosk.domain.identity.person import (
    fmt_date,
    normalize_address,
    normalize_full_name,
    normalize_gender,
)

MIN_FIELDS = 7

# Field name (as in CccdQrData) -> how the customer knows it; used in every message.
FIELD_LABELS = {
    "id_number": "Số căn cước công dân",
    "old_id_number": "Số chứng minh nhân dân cũ",
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "gender": "Giới tính",
    "address": "Nơi thường trú",
    "issue_date": "Ngày cấp",
}

_RESCAN = "Vui lòng quét lại mã QR hoặc nhập thông tin bằng tay."


class QrPayloadError(IdentityError):
    """The scanned QR is not a readable CCCD payload; ``field`` names the culprit if known."""


@dataclass(frozen=True)
class CccdQrData:
    id_number: str
    old_id_number: str | None
    full_name: str
    date_of_birth: date
    gender: str
    address: str
    issue_date: date


def _fail(field: str | None, problem: str) -> QrPayloadError:
    prefix = f"{FIELD_LABELS[field]} trong mã QR " if field else "Mã QR "
    return QrPayloadError(f"{prefix}{problem} {_RESCAN}", field)


def _undo_mojibake(text: str) -> str:
    """Undo UTF-8 read as CP1252/Latin-1 ("Nguyá»…n" -> "Nguyễn"), which some decoders produce
    when the QR carries no charset marker. Genuine Vietnamese text never survives the round trip
    (it has letters outside those code pages, or byte sequences that are not UTF-8), so it is
    returned unchanged."""
    if text.isascii():
        return text
    raw = bytearray()
    for ch in text:
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return text
            raw.append(ord(ch))  # Latin-1, and the five bytes CP1252 leaves undefined
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _to_text(payload: str | bytes) -> str:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = bytes(payload).removeprefix(codecs.BOM_UTF8)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Keep what can be read: the numbers and dates are ASCII and survive; a damaged
            # name or address then shows up as U+FFFD and is reported for that field.
            text = data.decode("utf-8", errors="replace")
    elif isinstance(payload, str):
        text = payload
    else:
        raise _fail(None, "không đọc được.")
    return nfc(_undo_mojibake(text.lstrip("\ufeff")))


def _field(fields: list[str], index: int, name: str) -> str:
    value = re.sub(r"\s+", " ", fields[index]).strip()
    if "\ufffd" in value or any(ord(ch) < 32 for ch in value):
        raise _fail(name, "bị lỗi ký tự, không đọc được.")
    return value


def _qr_date(value: str, name: str) -> date:
    if not re.fullmatch(r"[0-9]{8}", value):
        raise _fail(name, f"không đúng dạng ngày (ngày tháng năm viết liền, 8 chữ số): “{value}”.")
    day, month, year = int(value[:2]), int(value[2:4]), int(value[4:])
    try:
        return date(year, month, day)
    except ValueError:
        raise _fail(name, f"là ngày {day:02d}/{month:02d}/{year:04d}, không có thật.") from None


def parse_cccd_qr(text: str | bytes, today: date | None = None) -> CccdQrData:
    """Parse and validate a CCCD QR payload; raise QrPayloadError naming the bad field.

    ``today`` (default: the local date) is only used to refuse dates in the future.
    """
    today = today or date.today()
    raw = _to_text(text).strip()
    if not raw:
        raise _fail(None, "không có nội dung.")
    fields = raw.split("|")
    if len(fields) < MIN_FIELDS:
        raise _fail(
            None,
            f"không phải mã của thẻ căn cước công dân (chỉ có {len(fields)} mục thông tin, "
            f"cần ít nhất {MIN_FIELDS}).",
        )

    id_number = _field(fields, 0, "id_number").replace(" ", "")
    if not re.fullmatch(r"\d{12}", id_number):
        raise _fail("id_number", f"phải gồm đúng 12 chữ số (đọc được “{id_number}”).")
    try:
        id_number = normalize_id_number(IdType.CCCD, id_number)
    except IdentityError as err:
        raise QrPayloadError(f"{err.message} {_RESCAN}", "id_number") from None

    old_id = _field(fields, 1, "old_id_number").replace(" ", "")
    # 9 digits is the usual old CMND; some provinces issued 12-digit CMND cards in 2012–2016.
    if old_id and not re.fullmatch(r"\d{9}|\d{12}", old_id):
        raise _fail("old_id_number", f"phải để trống hoặc gồm 9 chữ số (đọc được “{old_id}”).")

    name_text = _field(fields, 2, "full_name")
    if not name_text:
        raise _fail("full_name", "bị trống.")
    try:
        full_name = normalize_full_name(name_text)
    except IdentityError:
        raise _fail("full_name", f"không hợp lệ (đọc được “{name_text}”).") from None

    date_of_birth = _qr_date(_field(fields, 3, "date_of_birth"), "date_of_birth")

    gender_text = _field(fields, 4, "gender")
    try:
        gender = normalize_gender(gender_text)
    except IdentityError:
        raise _fail("gender", f"phải là Nam hoặc Nữ (đọc được “{gender_text}”).") from None

    address_text = _field(fields, 5, "address")
    if not address_text:
        raise _fail("address", "bị trống.")
    try:
        address = normalize_address(address_text)
    except IdentityError:
        raise _fail("address", f"không hợp lệ (đọc được “{address_text}”).") from None

    issue_date = _qr_date(_field(fields, 6, "issue_date"), "issue_date")

    for name, value in (("date_of_birth", date_of_birth), ("issue_date", issue_date)):
        if value > today:
            raise _fail(name, f"là ngày {fmt_date(value)}, sau ngày hôm nay.")
    if not date_of_birth < issue_date:
        raise _fail(
            "issue_date",
            f"({fmt_date(issue_date)}) phải sau ngày sinh ({fmt_date(date_of_birth)}).",
        )

    return CccdQrData(
        id_number=id_number,
        old_id_number=old_id or None,
        full_name=full_name,
        date_of_birth=date_of_birth,
        gender=gender,
        address=address,
        issue_date=issue_date,
    )
