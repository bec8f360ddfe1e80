"""Today's address of the customer, proposed from the card's (docs/addresses.md).

The card's residence stays as printed (``data["address"]``); beside it the registration keeps
the current address: ``current_address`` (text), ``current_ward_code`` (statistics-office code,
five digits) and ``address_source``:

- ``converted``: the card's commune went whole into one unit today (or the card already names
  a unit of today), so nothing had to be asked;
- ``chosen``: the card's commune was split; the customer picked one of the units it went into;
- ``typed``: nothing converted (or the customer lives elsewhere now) and the customer found
  the unit by typing its name.

Nothing here writes: ``customer_details.declare_personal`` stores the answer with step 3.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain import address_data
from kiosk.domain.address import current_text, readings, street_part
from kiosk.domain.address_data import THANH_HOA, Unit

CHOOSE = ("Xã/phường ghi trên giấy tờ nay đã được chia cho nhiều nơi. "
          "Vui lòng chạm vào nơi quý khách đang ở.")
NOT_FOUND = ("Chưa tìm được xã/phường hiện nay của địa chỉ này. "
             "Vui lòng gõ tên xã/phường nơi quý khách ở và chọn trong danh sách.")
UNKNOWN_CODE = "Không có xã/phường này trong danh sách hiện nay. Vui lòng chọn lại trong danh sách."


@dataclass(frozen=True)
class Proposal:
    """What the card's address became: ``units`` holds one unit (converted), several (split:
    the customer chooses) or none (the customer types)."""

    street: str
    units: tuple[Unit, ...]
    province_code: int  # where the picker searches first: the card's province, else Thanh Hóa

    @property
    def status(self) -> str:
        return {0: "unknown", 1: "converted"}.get(len(self.units), "ambiguous")

    def text_for(self, unit: Unit) -> str:
        return current_text(self.street, unit.name, unit.province_label)


@dataclass(frozen=True)
class CurrentAddress:
    text: str
    ward_code: str
    source: str  # converted | chosen | typed


@dataclass(frozen=True)
class AddressRefused:
    message: str


def ward_code_text(unit: Unit) -> str:
    """The statistics office writes its commune codes on five digits («00004»)."""
    return f"{unit.code:05d}"


def propose(card_text: str) -> Proposal:
    """Read the card's text (docs/addresses.md: the readings, their order) and look it up."""
    options = readings(card_text or "")
    province = THANH_HOA
    for reading in options:
        code = address_data.province_code(reading.province)
        if code is not None:
            province = code
            break
    for reading in options:
        if reading.two_tier:
            # Today's form first: a card printed since July 2025 names today's unit.
            today = address_data.find_current(reading.province, reading.ward)
            if today is not None:
                return Proposal(reading.street, (today,), today.province_code)
        units = address_data.convert_old(reading)
        if units:
            return Proposal(reading.street, units, units[0].province_code)
    return Proposal(street_part(card_text or ""), (), province)


def search_units(query: str, province_code: int | None) -> list[Unit]:
    """The picker: units of the card's province whose name holds what was typed; when none
    there, of the whole country (a customer who moved province)."""
    query = (query or "").strip()[:60]
    found = address_data.search(query, province_code)
    return found or address_data.search(query, None)


def _unit_from(ward_code: str) -> Unit | None:
    code = (ward_code or "").strip()
    if not code.isascii() or not code.isdigit() or len(code) > 6:
        return None
    return address_data.unit(int(code))


def resolve(card_text: str, ward_code: str = "") -> CurrentAddress | AddressRefused:
    """The current address for the card's ``card_text`` and the unit the customer touched
    (``ward_code``, empty when they touched none)."""
    proposal = propose(card_text)
    if ward_code and ward_code.strip():
        unit = _unit_from(ward_code)
        if unit is None:
            return AddressRefused(UNKNOWN_CODE)
        if unit in proposal.units:
            source = "converted" if len(proposal.units) == 1 else "chosen"
        else:
            source = "typed"
        return CurrentAddress(proposal.text_for(unit), ward_code_text(unit), source)
    if len(proposal.units) == 1:
        unit = proposal.units[0]
        return CurrentAddress(proposal.text_for(unit), ward_code_text(unit), "converted")
    return AddressRefused(CHOOSE if proposal.units else NOT_FOUND)


@dataclass(frozen=True)
class Choice:
    """One line of the touch list: the unit and the full address it gives."""

    code: str
    name: str  # «Xã Hoằng Lộc, tỉnh Thanh Hóa»
    address: str


@dataclass(frozen=True)
class AddressScreen:
    """What step 3 shows under the card's address: the proposal's units, the units found by
    typing, and which one is marked (the one posted or stored, else a lone proposal)."""

    status: str  # converted | ambiguous | unknown
    proposed: tuple[Choice, ...]
    found: tuple[Choice, ...]
    selected: str
    query: str


def screen(card_text: str, query: str = "", ward_code: str = "") -> AddressScreen:
    proposal = propose(card_text)

    def choice(unit: Unit) -> Choice:
        return Choice(ward_code_text(unit), f"{unit.name}, {unit.province_label}",
                      proposal.text_for(unit))

    proposed = tuple(choice(u) for u in proposal.units)
    found = [choice(u) for u in search_units(query, proposal.province_code)] if query else []
    marked = _unit_from(ward_code) if ward_code else None
    if marked is not None:
        selected = ward_code_text(marked)
        if all(c.code != selected for c in (*proposed, *found)):
            found.insert(0, choice(marked))  # what they picked earlier stays on screen
    else:
        selected = proposed[0].code if len(proposed) == 1 else ""
    return AddressScreen(proposal.status, proposed, tuple(found), selected, (query or "")[:60])


def data_versions() -> dict[str, str]:
    return address_data.versions()
