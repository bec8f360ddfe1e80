"""The province's offices (admin): list, create, edit the contact printed on the receipt,
deactivate and reactivate. Every change is audited.

An office is deactivated only once nobody works there: while an active clerk or kiosk still
belongs to it, the refusal names what to move first. Registrations stay with their office for
ever (its clerks' history, its reports); a deactivated office just takes no new clerks.

Changes are flushed, not committed: the request (or the CLI command) commits once the change
has returned (services/unit_of_work); a refused change raises OfficeError before it writes."""
from __future__ import annotations

import re
from urllib.parse import urlparse

from sqlalchemy import func, select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, StaffUser
from kiosk.core.seed import APP_STORE_SEARCH, PLAY_STORE_SEARCH
from kiosk.services import rows, settings

_CODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The contact fields an admin types, and their Vietnamese names for the messages.
FIELDS = (("name", "tên đơn vị", 200), ("address", "địa chỉ", 300),
          ("phone", "số điện thoại", 50), ("hotline", "đường dây nóng", 50),
          ("email", "email", 200), ("website", "trang web", 200))
STORE_FIELDS = (("app_store_url", "Liên kết App Store", APP_STORE_SEARCH),
                ("play_store_url", "Liên kết CH Play", PLAY_STORE_SEARCH))


class OfficeError(ValueError):
    """A Vietnamese message for the form."""


def all_offices() -> list[Office]:
    """Active offices first, then by name."""
    return list(db.session.scalars(select(Office).order_by(Office.active.desc(), Office.name,
                                                           Office.id)))


def active_offices() -> list[Office]:
    return list(db.session.scalars(select(Office).where(Office.active.is_(True))
                                   .order_by(Office.name, Office.id)))


def get(office_id: int) -> Office | None:
    return rows.get(Office, office_id)


def from_form(raw) -> Office | None:
    """The office a form's field names by its id, or None."""
    return rows.from_form(Office, raw)


def by_code(code: str) -> Office | None:
    return db.session.scalar(select(Office).where(Office.code == (code or "").strip().lower()))


def _text(value, label: str, max_len: int, required: bool = True) -> str:
    return settings.printed_text(value, label, max_len, required, error=OfficeError)


def _url(raw, label: str, default: str) -> str:
    # Left empty on a new office: the app stores' search pages, as the seed has them.
    url = _text(raw, label, 500, required=False) or default
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise OfficeError(f"{label}: cần một địa chỉ bắt đầu bằng https://")
    return url


def parse_code(raw) -> str:
    code = _text(raw, "mã đơn vị", 50).lower()
    if not _CODE.match(code):
        raise OfficeError("Mã đơn vị: chữ thường không dấu, số và gạch ngang, ví dụ sam-son.")
    return code


def _values(form) -> dict:
    values = {key: _text(form.get(key), label, max_len) for key, label, max_len in FIELDS}
    if not _EMAIL.match(values["email"]):
        raise OfficeError("Email chưa đúng dạng, ví dụ hotro@vnpt.vn.")
    for key, label, default in STORE_FIELDS:
        values[key] = _url(form.get(key), label, default)
    return values


def create(actor: str, form) -> Office:
    """A new office from the form (code, name, contact). ``actor``: who, for the audit."""
    code = parse_code(form.get("code"))
    values = _values(form)
    if by_code(code) is not None:
        raise OfficeError("Mã đơn vị này đã có.")
    office = Office(code=code, active=True, **values)
    db.session.add(office)
    db.session.flush()
    audit.record("office_created", actor=actor, office=code)
    return office


def update(actor: str, office: Office, form) -> Office:
    """New contact details for ``office`` (its code stays: filters and the CLI use it)."""
    values = _values(form)
    changed = sorted(k for k, v in values.items() if getattr(office, k, None) != v)
    for key, value in values.items():
        setattr(office, key, value)
    audit.record("office_updated", actor=actor, office=office.code, fields=changed)
    return office


def still_working_there(office: Office) -> tuple[int, int]:
    """(active clerks, active kiosks) of ``office``."""
    clerks = db.session.scalar(select(func.count(StaffUser.id)).where(
        StaffUser.office_id == office.id, StaffUser.active.is_(True))) or 0
    kiosks = db.session.scalar(select(func.count(Kiosk.id)).where(
        Kiosk.office_id == office.id, Kiosk.active.is_(True))) or 0
    return clerks, kiosks


def set_active(actor: str, office: Office, active: bool) -> None:
    if not active:
        clerks, kiosks = still_working_there(office)
        if clerks or kiosks:
            parts = ([f"{clerks} nhân viên đang làm việc"] if clerks else []) + (
                [f"{kiosks} quầy đang dùng"] if kiosks else [])
            raise OfficeError(f"Chưa ngừng được đơn vị này: còn {' và '.join(parts)}. "
                              "Chuyển hoặc khóa họ trước (trang Nhân viên, phần Quầy).")
    office.active = active
    audit.record("office_reactivated" if active else "office_deactivated", actor=actor,
                 office=office.code)
