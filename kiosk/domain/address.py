"""Addresses before and after 1 July 2025 (pure text rules, no data sets, no Flask).

Since 1 July 2025 Vietnam has two tiers of local government: province and commune (xã,
phường, đặc khu); districts are gone. Cards printed earlier stay valid, so most cards at the
counter still say «xã X, huyện Y, tỉnh Z». This module splits such a text into its street part
and its administrative parts and builds today's text; which unit an old commune became is
looked up in the data sets behind ``kiosk.domain.address_data`` (docs/addresses.md).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words naming a level, longest first so «thành phố» wins over a bare «t…». Abbreviations seen
# on older cards and typed by hand («TP», «TX», «TT») count too. Matched on folded text.
WARD_PREFIXES = ("thi tran", "dac khu", "phuong", "xa", "tt", "p.", "x.")
DISTRICT_PREFIXES = ("thanh pho", "thi xa", "huyen", "quan", "tp.", "tp", "tx.", "tx", "h.", "q.")
PROVINCE_PREFIXES = ("thanh pho", "tinh", "tp.", "tp", "t.")

SOURCES = ("converted", "chosen", "typed")


def fold(text: str) -> str:
    """Lower case without tone marks: «Thanh Hoá», «Thanh Hóa» and «THANH HOA» read alike."""
    decomposed = unicodedata.normalize("NFD", str(text).lower()).replace("\u0111", "d")
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9.\s]", " ", bare)).strip()


def _strip(part: str, prefixes: tuple[str, ...]) -> tuple[str, bool]:
    """(the part without its level word, whether it had one). The name keeps its accents."""
    folded = fold(part)
    for prefix in prefixes:
        if folded == prefix:
            continue
        if folded.startswith(prefix + " ") or (prefix.endswith(".") and folded.startswith(prefix)):
            words = len(prefix.rstrip(".").split())
            rest = part.strip()
            # Drop as many words as the prefix has (and a dot glued to an abbreviation).
            tail = re.split(r"[\s.]+", rest, maxsplit=words)
            return (tail[-1].strip(" .") if len(tail) > words else ""), True
    return part.strip(), False


def name_key(name: str) -> str:
    """A unit's name compared without its level word, case, tone marks or punctuation."""
    for prefixes in (WARD_PREFIXES, DISTRICT_PREFIXES, PROVINCE_PREFIXES):
        stripped, had = _strip(name, prefixes)
        if had:
            name = stripped
            break
    return fold(name).replace(".", "").replace(" ", "")


@dataclass(frozen=True)
class Reading:
    """One way to read an address: ``district`` is empty for today's two-tier form."""

    street: str
    ward: str
    district: str
    province: str

    @property
    def two_tier(self) -> bool:
        return not self.district


def _parts(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]


def readings(text: str) -> list[Reading]:
    """The plausible readings of an address, the likeliest first.

    Read from the right: the last part is the province. A level word decides when there is one
    («huyện», «quận», «thị xã», «TP» before the province: the old three-tier form; «xã»,
    «phường» right before it: today's form or an old card that left the district out). Without
    level words both readings are offered and the data decide (docs/addresses.md).
    """
    parts = _parts(text)
    if len(parts) < 2:
        return []
    found: list[Reading] = []
    province, _ = _strip(parts[-1], PROVINCE_PREFIXES)
    second, second_is_ward = _strip(parts[-2], WARD_PREFIXES)
    _, second_is_district = _strip(parts[-2], DISTRICT_PREFIXES)
    if len(parts) >= 3 and not second_is_ward:
        ward, _ = _strip(parts[-3], WARD_PREFIXES)
        district, _ = _strip(parts[-2], DISTRICT_PREFIXES)
        found.append(Reading(", ".join(parts[:-3]), ward, district, province))
    if not second_is_district:
        found.append(Reading(", ".join(parts[:-2]), second, "", province))
    # Cards of a city's ward often end at the district («…, phường X, TP Thanh Hóa»): read the
    # last part as the district too and leave the province to the data.
    district, last_is_district = _strip(parts[-1], DISTRICT_PREFIXES)
    if last_is_district:
        found.append(Reading(", ".join(parts[:-2]), second, district, ""))
    return [r for r in found if r.ward]


def street_part(text: str) -> str:
    """The street part when the units could not be looked up: every part that names no level
    («xã …», «huyện …», «tỉnh …») is kept, so a house number is never lost."""
    kept = []
    for part in _parts(text):
        if any(_strip(part, prefixes)[1]
               for prefixes in (WARD_PREFIXES, DISTRICT_PREFIXES, PROVINCE_PREFIXES)):
            continue
        kept.append(part)
    return ", ".join(kept)


def current_text(street: str, ward_name: str, province_label: str) -> str:
    """«Thôn 3, xã Hoằng Lộc, tỉnh Thanh Hóa»: the street part kept, today's units after it.

    The level words are written in lower case inside the sentence, as the resolutions do;
    ``ward_name`` and ``province_label`` carry their level word («Xã Hoằng Lộc»)."""
    pieces = [street.strip(" ,")] if street.strip(" ,") else []
    pieces += [_lower_level(ward_name), _lower_level(province_label)]
    return unicodedata.normalize("NFC", ", ".join(pieces))


def _lower_level(name: str) -> str:
    for word in ("Thành phố", "Thành Phố", "Đặc khu", "Đặc Khu", "Phường", "Tỉnh", "Xã"):
        if name.startswith(word + " "):
            return word.lower() + name[len(word):]
    return name
