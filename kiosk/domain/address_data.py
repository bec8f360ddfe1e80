"""The seam to the two address data sets (pure Python data, no Flask; docs/addresses.md).

- ``vietnam-provinces``: today's units with the General Statistics Office codes (Thanh Hóa is
  province 38 with 166 units). Its codes are the ones the kiosk stores and sends.
- ``vietnam-address-converter``: the official old → new mapping table. Its own numbering differs
  from the statistics office's, so its answers are matched to ``vietnam-provinces`` by province
  and unit name (tone marks and case aside) and only that code leaves this module.

Both are loaded on first use and kept for the process (about 80 MB, a fraction of a second).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

from kiosk.domain.address import Reading, fold, name_key

THANH_HOA = 38
MAX_SPLIT = 5


@dataclass(frozen=True)
class Unit:
    """A commune-level unit as it is today."""

    code: int  # statistics-office code, e.g. 16039
    name: str  # «Xã Hoằng Lộc», with its level word
    province_code: int
    province_label: str  # «tỉnh Thanh Hóa», «thành phố Hà Nội»


def versions() -> dict[str, str]:
    """What the audit log and docs cite: the packages and the dates of their data."""
    import vietnam_provinces
    from vietnam_address_converter.data import DEFAULT_DATA

    return {
        "vietnam-provinces": version("vietnam-provinces"),
        "vietnam-provinces data": vietnam_provinces.__data_version__,
        "vietnam-address-converter": version("vietnam-address-converter"),
        "mapping": str(DEFAULT_DATA["mapping"]["meta"]["version"]),
    }


def _province_label(province) -> str:
    name = province.name
    if fold(name).startswith("thanh pho "):
        return "thành phố" + name[len("Thành phố"):]
    return f"tỉnh {name}"


@cache
def _tables():
    from vietnam_provinces import Province, Ward

    provinces = {p.code.value: p for p in Province.iter_all()}
    by_code: dict[int, Unit] = {}
    by_name: dict[tuple[str, str], list[Unit]] = {}
    by_full_name: dict[tuple[str, str], list[Unit]] = {}
    for ward in Ward.iter_all():
        province = provinces[ward.province_code.value]
        unit = Unit(ward.code.value, ward.name, province.code.value, _province_label(province))
        by_code[unit.code] = unit
        pkey = name_key(province.name)
        by_name.setdefault((pkey, name_key(ward.name)), []).append(unit)
        by_full_name.setdefault((pkey, fold(ward.name).replace(" ", "")), []).append(unit)
    province_keys = {name_key(p.name): code for code, p in provinces.items()}
    # Each unit's folded name once, so that a search over the whole country (every keystroke
    # of the picker) compares strings only: about 1 ms instead of 30.
    search_keys = [(name_key(u.name), fold(u.name), u) for u in by_code.values()]
    return by_code, by_name, by_full_name, province_keys, search_keys


def unit(code: int) -> Unit | None:
    return _tables()[0].get(code)


def province_code(name: str) -> int | None:
    """The statistics-office code of a province named on a card, or None."""
    return _tables()[3].get(name_key(name)) if name else None


def find_current(province: str, ward: str) -> Unit | None:
    """Today's unit of that name in that province; None when there is none, or two (a «xã» and
    a «phường» of the same name: the customer chooses)."""
    found = _tables()[1].get((name_key(province), name_key(ward)), [])
    return found[0] if len(found) == 1 else None


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and name_key(a) == name_key(b)


def convert_old(reading: Reading) -> tuple[Unit, ...]:
    """Today's units an old commune went into: one when it merged whole, several when it was
    split (the library's «ambiguous»), none when the data do not know it."""
    from vietnam_address_converter.conversion import convert_old_to_new
    from vietnam_address_converter.data import DEFAULT_DATA
    from vietnam_address_converter.normalize import normalize_vietnamese_name

    # The library drops a name it does not know from its search instead of failing, so an
    # unknown commune («Số 12 Lê Lai» read as one) would answer every commune of the province.
    known = DEFAULT_DATA["mapping"]["indexes"]["by_old_ward_name"]
    if normalize_vietnamese_name(reading.ward) not in known:
        return ()
    query = {"ward_name": reading.ward}
    if reading.district:
        query["district_name"] = reading.district
    if reading.province:
        query["province_name"] = reading.province
    result = convert_old_to_new(query, {"multiple": "all", "allowBroadMatch": False})
    if result["status"] not in ("matched", "ambiguous"):
        return ()
    by_full_name = _tables()[2]
    units: list[Unit] = []
    for candidate in result["candidates"]:
        old = candidate.get("old") or {}
        old_province = (old.get("province") or {}).get("name", "")
        old_district = (old.get("district") or {}).get("name", "")
        # When the card's district is stale or misspelt the library widens its search to any
        # commune of that name in the country: keep only the card's own province (or district).
        if reading.province and not _same(old_province, reading.province):
            continue
        if not reading.province and not _same(old_district, reading.district):
            continue
        new_ward, new_province = candidate.get("new_ward"), candidate.get("new_province")
        if not new_ward or not new_province:
            continue
        key = (name_key(new_province["name"]), fold(new_ward["name_with_type"]).replace(" ", ""))
        match = by_full_name.get(key, [])
        if len(match) == 1 and match[0] not in units:
            units.append(match[0])
    # No commune was split into more than five (mapping 10_25); a longer list means the name
    # matched several communes of the province, which is no answer to offer.
    return tuple(units) if len(units) <= MAX_SPLIT else ()


def search(query: str, province: int | None, limit: int = 12) -> list[Unit]:
    """Today's units whose name contains what was typed (tone marks and case aside), those of
    ``province`` only when it is given; names that start with it first."""
    wanted = name_key(query)
    if not wanted:
        return []
    hits = [(not key.startswith(wanted), folded, u) for key, folded, u in _tables()[4]
            if (province is None or u.province_code == province) and wanted in key]
    hits.sort(key=lambda hit: hit[:2])
    return [u for _, _, u in hits[:limit]]


def units_of(province: int) -> list[Unit]:
    """All of a province's units, by name (the plain list when nothing was typed)."""
    return sorted((u for u in _tables()[0].values() if u.province_code == province),
                  key=lambda u: fold(u.name))
