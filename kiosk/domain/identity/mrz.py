"""Machine-readable zones (ICAO Doc 9303): TD1 (ID cards, 3 × 30) and TD3 (passports, 2 × 44).

Pure Python. :func:`parse_mrz` takes the lines as an OCR engine read them, repairs the usual
confusions *by position* (a letter O where the layout holds a digit is a 0; a digit 0 in the
country code is an O), and verifies every check digit (7-3-1 weights, ``<`` = 0, A–Z = 10–35,
Doc 9303 part 3 §4.9). The repair never changes a field whose check digit then fails: a result
is ``valid`` only if all the check digits (and the composite one) agree.

Vietnamese cards (the 2021 chip CCCD and the 2024 căn cước) use TD1 with document code ``ID``,
state ``VNM``, the **last 9 digits** of the 12-digit personal number as the document number and
the whole 12-digit number in the optional field of line 1; :attr:`MrzData.personal_number`
returns it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

TD1 = "TD1"
TD3 = "TD3"
_LENGTHS = {TD1: (3, 30), TD3: (2, 44)}
_WEIGHTS = (7, 3, 1)

# What OCR engines confuse, by what the position must hold.
_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1",
                           "Z": "2", "S": "5", "B": "8", "G": "6", "T": "7", "A": "4"})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A",
                           "7": "T"})
_ALLOWED = re.compile(r"[^A-Z0-9<]")


def char_value(ch: str) -> int:
    """Value of one MRZ character in a check-digit sum; ValueError for anything else."""
    if ch == "<":
        return 0
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    raise ValueError(f"not an MRZ character: {ch!r}")


def check_digit(text: str) -> str:
    """The ICAO 9303 check digit of ``text`` (a single character ``0``–``9``)."""
    return str(sum(char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(text)) % 10)


def _check_ok(text: str, digit: str) -> bool:
    # an empty field (all fillers) may carry "<" as its check digit (Doc 9303 part 3 §4.9)
    if digit == "<":
        return set(text) <= {"<"}
    # ASCII only: str.isdigit also takes '١' or '０', which no zone holds
    return digit.isascii() and digit.isdigit() and check_digit(text) == digit


def clean_line(raw: str) -> str:
    """Upper case, spaces out, and the fillers OCR reads as «/K/« back to ``<``."""
    text = raw.upper().replace(" ", "").replace("«", "<").replace("‹", "<")
    return _ALLOWED.sub("<", text)


@dataclass(frozen=True)
class MrzData:
    format: str  # "TD1" | "TD3"
    document_code: str  # "ID", "P", "I" …
    issuing_state: str
    document_number: str  # without fillers
    date_of_birth: date | None
    sex: str | None  # "M" | "F" | None
    expiry_date: date | None  # None: no expiry ("<<<<<<") or unreadable
    nationality: str
    surname: str
    given_names: str
    optional1: str
    optional2: str
    checks: dict = field(default_factory=dict)  # name -> bool
    lines: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    @property
    def gender(self) -> str | None:
        """Sex as the kiosk writes it: "Nam" / "Nữ"."""
        return {"M": "Nam", "F": "Nữ"}.get(self.sex or "")

    @property
    def personal_number(self) -> str | None:
        """The 12-digit Vietnamese personal identification number, if the zone carries it.

        On the CCCD and the căn cước it is in the optional field of line 1 and ends with the
        9-digit document number; on a Vietnamese passport it is the TD3 personal number."""
        for candidate in (self.optional1, self.optional2):
            match = re.search(r"[0-9]{12}", candidate)
            if match and (self.format == TD3 or match.group().endswith(self.document_number)):
                return match.group()
        return None

    def as_contract(self) -> dict:
        """The ``mrz`` object of the read-card JSON contract (without ``found``)."""
        # the number a customer knows: on a Vietnamese card the 12-digit number (the zone's
        # 9-digit document number is its tail), on a passport the passport number
        number = self.document_number if self.format == TD3 else (
            self.personal_number or self.document_number)
        return {
            "valid": self.valid,
            "document_number": number or None,
            "personal_number": self.personal_number,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "sex": self.gender,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
        }


def _yymmdd(text: str, *, past: bool, today: date) -> date | None:
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    # two digits only: a birth date is in the past; an expiry date is before 2070
    century = 2000 if (yy <= today.year % 100 if past else yy < 70) else 1900
    try:
        return date(century + yy, mm, dd)
    except ValueError:
        return None


def _digits(text: str) -> str:
    return text.translate(_TO_DIGIT)


def _alpha(text: str) -> str:
    return text.translate(_TO_ALPHA)


def _name(text: str) -> tuple[str, str]:
    surname, _, given = text.strip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _fit(lines: list[str], length: int) -> list[str]:
    """Lines padded with fillers (OCR drops trailing ``<``) or cut to ``length``."""
    return [(line + "<" * length)[:length] for line in lines]


def _best_doc_number(raw: str, digit: str, numeric: bool) -> tuple[str, bool]:
    """The document number field as read, or with letters made digits when that is what makes
    its check digit agree (Vietnamese card numbers are all digits; a passport's starts with a
    letter)."""
    candidates = [raw]
    if numeric:
        candidates.insert(0, _digits(raw))
    else:  # letter + digits (a Vietnamese passport: C1234567) before the letters as read
        candidates.insert(0, _alpha(raw[:1]) + _digits(raw[1:]))
    for cand in candidates:
        if _check_ok(cand, digit):
            return cand, True
    return candidates[0], False


def _parse_td1(lines: list[str], today: date) -> MrzData:
    l1, l2, l3 = _fit(lines, 30)
    code = l1[0:2].translate(_TO_ALPHA)
    state = _alpha(l1[2:5])
    numeric = state == "VNM"
    doc_digit = _digits(l1[14])
    doc, doc_ok = _best_doc_number(l1[5:14], doc_digit, numeric)
    opt1 = l1[15:30]
    if numeric:
        opt1 = _digits(opt1.rstrip("<")) + "<" * (len(opt1) - len(opt1.rstrip("<")))
    dob_raw, dob_digit = _digits(l2[0:6]), _digits(l2[6])
    sex = l2[7].replace("H", "M").replace("P", "F")
    exp_raw, exp_digit = l2[8:14], l2[14]
    if exp_raw != "<<<<<<":
        exp_raw, exp_digit = _digits(exp_raw), _digits(exp_digit)
    nationality = _alpha(l2[15:18])
    opt2 = l2[18:29]
    composite_digit = _digits(l2[29])
    l1_fixed = code + state + doc + doc_digit + opt1
    composite = l1_fixed[5:30] + dob_raw + dob_digit + exp_raw + exp_digit + opt2
    checks = {
        "document_number": doc_ok,
        "date_of_birth": _check_ok(dob_raw, dob_digit),
        "expiry_date": _check_ok(exp_raw, exp_digit),
        "composite": _check_ok(composite, composite_digit),
    }
    surname, given = _name(l3)
    return MrzData(
        format=TD1, document_code=code.rstrip("<"), issuing_state=state,
        document_number=doc.rstrip("<"),
        date_of_birth=_yymmdd(dob_raw, past=True, today=today),
        sex=sex if sex in "MF" else None,
        expiry_date=_yymmdd(exp_raw, past=False, today=today),
        nationality=nationality, surname=surname, given_names=given,
        optional1=opt1, optional2=opt2, checks=checks,
        lines=(l1_fixed, l2[:29] + composite_digit, l3),
    )


def _parse_td3(lines: list[str], today: date) -> MrzData:
    l1, l2 = _fit(lines, 44)
    code = l1[0:2]
    state = _alpha(l1[2:5])
    surname, given = _name(l1[5:44])
    doc_digit = _digits(l2[9])
    doc, doc_ok = _best_doc_number(l2[0:9], doc_digit, numeric=False)
    nationality = _alpha(l2[10:13])
    dob_raw, dob_digit = _digits(l2[13:19]), _digits(l2[19])
    sex = l2[20]
    exp_raw, exp_digit = _digits(l2[21:27]), _digits(l2[27])
    personal, personal_digit = l2[28:42], l2[42]
    if state == "VNM":  # the 12-digit personal identification number, then fillers
        body = personal.rstrip("<")
        personal = _digits(body) + "<" * (14 - len(body))
        personal_digit = _digits(personal_digit) if personal_digit != "<" else "<"
    composite_digit = _digits(l2[43])
    composite = doc + doc_digit + dob_raw + dob_digit + exp_raw + exp_digit + personal + personal_digit
    checks = {
        "document_number": doc_ok,
        "date_of_birth": _check_ok(dob_raw, dob_digit),
        "expiry_date": _check_ok(exp_raw, exp_digit),
        "personal_number": _check_ok(personal, personal_digit),
        "composite": _check_ok(composite, composite_digit),
    }
    return MrzData(
        format=TD3, document_code=code.rstrip("<"), issuing_state=state,
        document_number=doc.rstrip("<"),
        date_of_birth=_yymmdd(dob_raw, past=True, today=today),
        sex=sex if sex in "MF" else None,
        expiry_date=_yymmdd(exp_raw, past=False, today=today),
        nationality=nationality, surname=surname, given_names=given,
        optional1=personal, optional2="", checks=checks, lines=(l1, l2),
    )


def detect_format(lines: list[str]) -> str | None:
    """TD1 or TD3 from the number of lines and their length (OCR may drop a few fillers)."""
    # the name line loses its trailing fillers to OCR more than the others: it may be short
    if len(lines) == 3 and all(24 <= len(line) <= 32 for line in lines[:2]) \
            and 3 <= len(lines[2]) <= 32:
        return TD1
    if len(lines) == 2 and 8 <= len(lines[0]) <= 46 and 38 <= len(lines[1]) <= 46 \
            and lines[0][:1] == "P":
        return TD3
    return None


# OCR engines read runs of the filler "<" as K, S, C, E or X, and drop or add a filler or two.
_FILLER_LIKE = set("<KSCEX")


def _squeeze(segment: str, length: int) -> str:
    """A field read with fillers dropped or added, brought back to ``length``: a field with no
    digit is all fillers; otherwise filler-like characters are dropped from its end (or
    fillers added) until it fits."""
    if len(segment) == length:
        return segment
    if not any(ch.isdigit() for ch in segment) and set(segment) <= _FILLER_LIKE | set("<"):
        return "<" * length
    while len(segment) > length and segment[-1] in _FILLER_LIKE:
        segment = segment[:-1]
    return (segment + "<" * length)[:length]


def _fillers(segment: str) -> str:
    """A run of filler-like characters (with at least one real filler) made all fillers."""
    if "<" in segment and set(segment) <= _FILLER_LIKE:
        return "<" * len(segment)
    return segment


def _td1_candidates(lines: list[str]) -> list[list[str]]:
    l1, l2, l3 = lines
    out = [lines]
    if len(l1) > 30 and l1[3:6].isalpha() and not l1[2:5].isalpha():
        l1 = l1[:1] + l1[2:]  # a stray character read inside the document code ("I1DVNM")
    l1b = l1[:15] + _squeeze(l1[15:], 15)
    # line 2 is anchored on the nationality (usually the issuing state of line 1)
    state = _alpha(l1[2:5])
    at = l2.find(state, 12, 24) if state.strip("<") else -1
    if at < 0:
        at = 15
    head = l2[:8] + _squeeze(l2[8:at], 7) if at != 15 else l2[:15]
    head = head[:8] + _fillers(head[8:14]) + ("<" if head[14] in _FILLER_LIKE else head[14])
    tail = l2[at + 3:]
    composite = tail[-1:] if tail else "<"
    opt2 = _fillers(_squeeze(tail[:-1], 11))
    l2b = head + l2[at:at + 3] + opt2 + composite
    out.append([l1b, l2b, l3])
    if opt2 != "<" * 11:
        out.append([l1b, head + l2[at:at + 3] + "<" * 11 + composite, l3])
    return out


def _td3_candidates(lines: list[str]) -> list[list[str]]:
    l1, l2 = lines
    out = [lines]
    if len(l2) >= 30:
        personal = _fillers(_squeeze(l2[28:-2], 14))
        out.append([l1, l2[:28] + personal + l2[-2:]])
    return out


def parse_mrz(lines: list[str] | str, today: date | None = None) -> MrzData | None:
    """The zone's data from its lines (a list, or one string with newlines); None when the lines
    are not a TD1 or TD3 zone. Check ``.valid`` before trusting a field.

    Fillers misread or dropped by the OCR are repaired by the layout (anchored on the
    nationality code); every repair is only a candidate, kept when the check digits agree."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    cleaned = [clean_line(line) for line in lines if line.strip()]
    fmt = detect_format(cleaned)
    today = today or date.today()
    if fmt == TD1:
        candidates, parse = _td1_candidates(cleaned), _parse_td1
    elif fmt == TD3:
        candidates, parse = _td3_candidates(cleaned), _parse_td3
    else:
        return None
    best = None
    for candidate in candidates:
        data = parse(candidate, today)
        if data.valid:
            return data
        if best is None or sum(data.checks.values()) > sum(best.checks.values()):
            best = data
    return best


# ---- writing zones (for the synthetic cards and tests) ---------------------------------------

def _field(text: str, length: int) -> str:
    text = re.sub(r"[^A-Z0-9]+", "<", text.upper())
    return (text + "<" * length)[:length]


def _date6(value: date | None) -> str:
    return value.strftime("%y%m%d") if value else "<<<<<<"


def mrz_name(surname: str, given: str, length: int) -> str:
    """SURNAME<<GIVEN<NAMES padded with fillers to ``length`` (A–Z already)."""
    s = re.sub(r"[^A-Z]+", "<", surname.upper()).strip("<")
    g = re.sub(r"[^A-Z]+", "<", given.upper()).strip("<")
    return (s + "<<" + g + "<" * length)[:length]


def make_td1(document_number: str, date_of_birth: date, sex: str, expiry: date | None,
             surname: str, given: str, *, state: str = "VNM", nationality: str = "VNM",
             code: str = "ID", optional1: str = "", optional2: str = "") -> list[str]:
    """A TD1 zone with correct check digits (names already transliterated to A–Z)."""
    doc = _field(document_number, 9)
    l1 = _field(code, 2) + state + doc + check_digit(doc) + _field(optional1, 15)
    dob, exp = _date6(date_of_birth), _date6(expiry)
    exp_digit = check_digit(exp) if expiry else "<"
    l2 = (dob + check_digit(dob) + sex + exp + exp_digit + nationality + _field(optional2, 11))
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(composite)
    return [l1, l2, mrz_name(surname, given, 30)]


def make_td3(passport_number: str, date_of_birth: date, sex: str, expiry: date,
             surname: str, given: str, *, state: str = "VNM", nationality: str = "VNM",
             personal_number: str = "") -> list[str]:
    """A TD3 zone with correct check digits."""
    l1 = "P<" + state + mrz_name(surname, given, 39)
    doc = _field(passport_number, 9)
    personal = _field(personal_number, 14)
    dob, exp = _date6(date_of_birth), _date6(expiry)
    l2 = (doc + check_digit(doc) + nationality + dob + check_digit(dob) + sex + exp
          + check_digit(exp) + personal + check_digit(personal))
    composite = l2[0:10] + l2[13:20] + l2[21:43]
    return [l1, l2 + check_digit(composite)]


def vietnamese_td1(id_number: str, date_of_birth: date, gender: str, expiry: date | None,
                   full_name: str) -> list[str]:
    """The TD1 zone of a chip CCCD / căn cước for these card data (name in A–Z, no marks)."""
    surname, given = split_ascii_name(full_name)
    return make_td1(id_number[-9:], date_of_birth, "M" if gender == "Nam" else "F", expiry,
                    surname, given, optional1=id_number)


def ascii_name(text: str) -> str:
    """Vietnamese name without diacritics (Doc 9303 transliteration: Đ → D)."""
    import unicodedata

    text = text.replace("Đ", "D").replace("đ", "d")
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text)
                       if unicodedata.category(ch) != "Mn")
    return stripped.upper()


def split_ascii_name(full_name: str) -> tuple[str, str]:
    """(surname, given names) in A–Z: Vietnamese names put the family name first."""
    parts = ascii_name(full_name).split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])
