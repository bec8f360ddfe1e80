"""The data groups of the LDS (ICAO 9303-10 §4) and of the Vietnamese DG13, parsed.

Parsers take the raw file (with its outer tag) and return plain dicts/dataclasses; anything
malformed raises ParseError with a Vietnamese message naming the data group.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys

from kiosk.chip.errors import ChipError, ParseError
from kiosk.chip.keys import check_digit
from kiosk.chip.tlv import iter_tlv, read_tlv

# file identifiers (ICAO 9303-10 §4.6, table 38) and the outer tag of each file
FILES = {
    "COM": (0x011E, 0x60), "DG1": (0x0101, 0x61), "DG2": (0x0102, 0x75),
    "DG13": (0x010D, 0x6D), "DG14": (0x010E, 0x6E), "DG15": (0x010F, 0x6F), "SOD": (0x011D, 0x77),
}
CARD_ACCESS_FID = 0x011C
# EF.COM lists data groups by tag
_TAG_TO_DG = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9,
              0x6A: 10, 0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}


def _outer(data: bytes, tag: int, name: str) -> bytes:
    try:
        got, value, _ = read_tlv(data)
    except ChipError:
        raise ParseError(f"{name} trong chip bị hỏng hoặc đọc thiếu.") from None
    if got != tag:
        raise ParseError(f"{name} trong chip có thẻ dữ liệu lạ ({got:X}).", detail=f"tag {got:X}")
    return value


def parse_com(data: bytes) -> dict:
    value = _outer(data, 0x60, "EF.COM")
    items = dict(iter_tlv(value))
    return {
        "lds_version": items.get(0x5F01, b"").decode("ascii", "replace"),
        "unicode_version": items.get(0x5F36, b"").decode("ascii", "replace"),
        "data_groups": sorted(_TAG_TO_DG[t] for t in items.get(0x5C, b"") if t in _TAG_TO_DG),
    }


# --- DG1: the MRZ ------------------------------------------------------------------------------
def _date(yymmdd: str) -> str:
    return f"{yymmdd[4:6]}/{yymmdd[2:4]}/{yymmdd[0:2]}" if yymmdd.isdigit() else yymmdd


def parse_dg1(data: bytes) -> dict:
    value = _outer(data, 0x61, "DG1")
    mrz_bytes = dict(iter_tlv(value)).get(0x5F1F)
    if mrz_bytes is None:
        raise ParseError("DG1 không có vùng MRZ.")
    mrz = mrz_bytes.decode("ascii", "replace")
    if len(mrz) == 90:  # TD1: identity cards, three lines of 30
        l1, l2, l3 = mrz[:30], mrz[30:60], mrz[60:]
        number, number_cd, opt1 = l1[5:14], l1[14], l1[15:30]
        if number_cd == "<" and opt1.strip("<"):  # long number continued in the optional data
            rest = opt1.rstrip("<")
            number, number_cd, opt1 = number + rest[:-1], rest[-1], ""
        out = {
            "format": "TD1", "document_code": l1[0:2].rstrip("<"), "issuing_state": l1[2:5],
            "document_number": number.rstrip("<"), "optional_data": opt1.rstrip("<"),
            "birth_date": l2[0:6], "sex": l2[7], "expiry_date": l2[8:14],
            "nationality": l2[15:18], "optional_data_2": l2[18:29].rstrip("<"),
            "name": " ".join(p.replace("<", " ").strip() for p in l3.split("<<") if p.strip("<")),
        }
        checks = {
            "document_number": check_digit(number) == number_cd,
            "birth_date": check_digit(l2[0:6]) == l2[6],
            "expiry_date": check_digit(l2[8:14]) == l2[14],
            "composite": check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == l2[29],
        }
    elif len(mrz) == 88:  # TD3: passports
        l1, l2 = mrz[:44], mrz[44:]
        out = {
            "format": "TD3", "document_code": l1[0:2].rstrip("<"), "issuing_state": l1[2:5],
            "name": " ".join(p.replace("<", " ").strip() for p in l1[5:].split("<<") if p.strip("<")),
            "document_number": l2[0:9].rstrip("<"), "nationality": l2[10:13], "birth_date": l2[13:19],
            "sex": l2[20], "expiry_date": l2[21:27], "optional_data": l2[28:42].rstrip("<"),
        }
        checks = {
            "document_number": check_digit(l2[0:9]) == l2[9],
            "birth_date": check_digit(l2[13:19]) == l2[19],
            "expiry_date": check_digit(l2[21:27]) == l2[27],
        }
    else:
        raise ParseError("Vùng MRZ trong DG1 có độ dài lạ.", detail=f"{len(mrz)} chars")
    out["mrz"] = mrz
    out["check_digits_ok"] = all(checks.values())
    out["birth_date_display"] = _date(out["birth_date"])
    out["expiry_date_display"] = _date(out["expiry_date"])
    return out


# --- DG2: the face image ------------------------------------------------------------------------
@dataclass
class FaceImage:
    mime: str
    data: bytes
    width: int | None = None
    height: int | None = None


_JPEG = b"\xff\xd8\xff"
_JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K = b"\xff\x4f\xff\x51"


def parse_dg2(data: bytes) -> FaceImage:
    value = _outer(data, 0x75, "DG2")
    group = dict(iter_tlv(value)).get(0x7F61)
    if group is None:
        raise ParseError("DG2 không có mẫu sinh trắc học khuôn mặt.")
    for tag, inst in iter_tlv(group):
        if tag != 0x7F60:
            continue
        items = dict(iter_tlv(inst))
        bdb = items.get(0x5F2E) or items.get(0x7F2E)
        if bdb:
            return _face_from_bdb(bdb)
    raise ParseError("DG2 không có ảnh khuôn mặt.")


def _face_from_bdb(bdb: bytes) -> FaceImage:
    """ISO/IEC 19794-5 facial record: headers, feature points, image information, image."""
    if bdb[:4] == b"FAC\x00" and len(bdb) >= 46:
        pos = 14  # format id, version, record length, number of images
        points = int.from_bytes(bdb[pos + 4:pos + 6], "big")
        pos += 20 + 8 * points
        image_type = bdb[pos + 1] if pos + 12 <= len(bdb) else None
        width = int.from_bytes(bdb[pos + 2:pos + 4], "big")
        height = int.from_bytes(bdb[pos + 4:pos + 6], "big")
        image = bdb[pos + 12:]
        if image.startswith(_JPEG) and image_type in (0, None):
            return FaceImage("image/jpeg", image, width, height)
        if image.startswith((_JP2, _J2K)):
            return FaceImage("image/jp2", image, width, height)
    # headers that do not follow the standard exactly: look for the image signature
    for signature, mime in ((_JPEG, "image/jpeg"), (_JP2, "image/jp2"), (_J2K, "image/jp2")):
        at = bdb.find(signature)
        if at >= 0:
            return FaceImage(mime, bdb[at:])
    raise ParseError("Ảnh khuôn mặt trong DG2 không phải JPEG hay JPEG 2000.")


# --- DG13: Vietnamese personal data --------------------------------------------------------------
# Field numbers as reported by public CCCD readers (docs/chip.md lists the sources); unknown
# numbers are kept under "other" rather than guessed.
DG13_FIELDS = {
    1: "id_number", 2: "full_name", 3: "birth_date", 4: "sex", 5: "nationality",
    6: "ethnicity", 7: "religion", 8: "home_town", 9: "residence", 10: "identifying_features",
    11: "issue_date", 12: "expiry_date", 13: "parents", 14: "spouse", 15: "old_id_number",
}
_STRING_TAGS = {0x0C, 0x13, 0x16, 0x1E, 0x04}


def _strings(value: bytes) -> list[str]:
    out = []
    for tag, v in iter_tlv(value):
        if tag in _STRING_TAGS:
            text = v.decode("utf-16-be" if tag == 0x1E else "utf-8", "replace")
            out.append(text.strip())
        elif tag in (0x30, 0x31):
            out.extend(_strings(v))
    return out


def _has_numbered(value: bytes) -> bool:
    """Does ``value`` hold a SEQUENCE that itself starts with an INTEGER (i.e. a field)?"""
    for tag, v in iter_tlv(value):
        if tag in (0x30, 0x31) and v and v[0] == 0x02:
            return True
        if tag in (0x30, 0x31) and _has_numbered(v):
            return True
    return False


def _fields(value: bytes, found: dict) -> None:
    """Collect SEQUENCE { INTEGER n, value(s) } anywhere under ``value`` into found[n]."""
    for tag, v in iter_tlv(value):
        if tag not in (0x30, 0x31):
            continue
        first_tag, first, rest_at = read_tlv(v) if v else (None, b"", 0)
        if first_tag == 0x02 and len(first) <= 2 and _has_numbered(v[rest_at:]):
            _fields(v[rest_at:], found)  # a version number in front of the field list
        elif first_tag == 0x02 and len(first) <= 2 and rest_at < len(v):
            number = int.from_bytes(first, "big")
            strings = _strings(v[rest_at:])
            if strings or number not in found:
                found[number] = strings
        else:
            _fields(v, found)


def parse_dg13(data: bytes) -> dict:
    value = _outer(data, 0x6D, "DG13")
    found: dict[int, list[str]] = {}
    try:
        _fields(value, found)
    except ChipError:
        raise ParseError("DG13 (thông tin công dân) không đúng định dạng.") from None
    if not found:
        raise ParseError("DG13 không có trường thông tin nào.")
    out: dict = {"other": {}}
    for number, strings in sorted(found.items()):
        name = DG13_FIELDS.get(number)
        if name == "parents":
            out["father_name"] = strings[0] if strings else ""
            out["mother_name"] = strings[1] if len(strings) > 1 else ""
        elif name:
            out[name] = " ".join(strings)
        else:
            out["other"][str(number)] = strings
    return out


# --- DG14 / DG15: chip and active authentication --------------------------------------------------
def parse_dg14(data: bytes) -> list[tuple[str, list[tuple[int, bytes]]]]:
    from kiosk.chip.pace import parse_security_infos

    return parse_security_infos(_outer(data, 0x6E, "DG14"))


@dataclass
class ActiveAuthKey:
    algorithm: str  # "rsa" | "ec"
    der: bytes = field(repr=False)


def parse_dg15(data: bytes) -> ActiveAuthKey:
    value = _outer(data, 0x6F, "DG15")
    try:
        info = asn1_keys.PublicKeyInfo.load(value)
        return ActiveAuthKey(info.algorithm, info.dump())
    except Exception:
        raise ParseError("Khoá xác thực chủ động (DG15) không đọc được.") from None
