"""Step 9 begins with the certificate's information: the customer confirms it is correct before
signing the acceptance record (Decree 23/2025/NĐ-CP: a subscriber certificate is published only
after the subscriber confirms its information), or says a field is wrong.

A wrong field goes back to the step that owns it while that step is still open to the customer
(domain.certificate.customer_may_change); after step 4 the backend holds the data, so a clerk is
called instead. Functions flush; the request commits (services/unit_of_work).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.core import audit
from kiosk.core.models import Registration, utcnow
from kiosk.domain import certificate, flow
from kiosk.domain.local_time import local_time
from kiosk.services import registrations

HELP_REASON = "certificate_data_wrong"
NOT_CONFIRMED = ("Quý khách chưa xác nhận thông tin chứng thư số. "
                 "Vui lòng bấm «Thông tin này đúng» trước khi ký.")


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    value: str
    step: int  # the step that owns the field
    may_change: bool  # the customer can go back to that step alone


@dataclass(frozen=True)
class Certificate:
    lines: tuple[Line, ...]
    valid_from: date | None
    valid_until: date | None
    confirmed: bool


@dataclass(frozen=True)
class GoBack:
    """The customer corrects the field at ``step``."""
    step: int


@dataclass(frozen=True)
class ClerkCalled:
    """A clerk was called: the field cannot be changed by the customer alone any more."""
    label: str


def vietnam_today() -> date:
    return local_time(utcnow()).date()


def _address(data: dict) -> str:
    # Step 3's current address when the form has it, else the address as declared.
    current = data.get("current_address")
    if isinstance(current, dict):
        current = ", ".join(str(v) for v in current.values() if v)
    return str(current or data.get("address") or "")


def _vn_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def summary(reg: Registration, today: date | None = None) -> Certificate:
    """The certificate's fields as step 9 lists them, one line each, with the validity from
    the package's months starting ``today`` (Vietnam time)."""
    data = reg.data
    package = reg.package_snapshot or {}
    months = package.get("duration_months")
    start, end = (certificate.validity(today or vietnam_today(), int(months))
                  if months else (None, None))
    address = _address(data)
    values = {
        "full_name": data.get("full_name", ""),
        "id_number": data.get("id_number", ""),
        "address": address,
        "province": data.get("province") or certificate.province_of(address),
        "email": data.get("email") or "Không có",
        "phone": data.get("phone", ""),
        "package": package.get("name", ""),
        "validity": (f"{months} tháng, từ {_vn_date(start)} đến {_vn_date(end)}"
                     if months else ""),
    }
    finished = reg.finished
    lines = tuple(
        Line(f.key, f.label, str(values[f.key]), f.step,
             certificate.customer_may_change(f.key, reg.furthest_step, finished))
        for f in certificate.FIELDS)
    return Certificate(lines, start, end, is_confirmed(reg))


def is_confirmed(reg: Registration) -> bool:
    return bool(reg.data.get("certificate_confirmed"))


def confirm(reg: Registration, today: date | None = None) -> Certificate:
    """«Thông tin này đúng»: keep what was confirmed (the fields and the dates, encrypted with
    the personal data) and audit the confirmation (no personal data in the audit row). The
    first confirmation stands: a second press (a double tap, a reload) records nothing more."""
    if is_confirmed(reg):
        return summary(reg, today)
    if reg.furthest_step != flow.LAST_STEP or reg.finished:
        raise ValueError("the certificate is confirmed at step 9 only")
    shown = summary(reg, today)
    reg.update_personal(certificate_confirmed={
        "at": utcnow().isoformat(),
        "fields": {line.key: line.value for line in shown.lines},
        "valid_from": shown.valid_from.isoformat() if shown.valid_from else None,
        "valid_until": shown.valid_until.isoformat() if shown.valid_until else None,
    })
    audit.record("certificate_confirmed", reg, valid_from=_vn_date(shown.valid_from),
                 valid_until=_vn_date(shown.valid_until))
    return summary(reg, today)


def report_wrong(reg: Registration, key: str) -> GoBack | ClerkCalled:
    """«Sai thông tin» on field ``key`` (KeyError for a field the certificate does not have)."""
    owned = certificate.field(key)
    if certificate.customer_may_change(key, reg.furthest_step, reg.finished):
        audit.record("certificate_field_wrong", reg, field=key, outcome="back_to_step",
                     step=owned.step)
        return GoBack(owned.step)
    audit.record("certificate_field_wrong", reg, field=key, outcome="clerk_called",
                 step=owned.step)
    registrations.request_help(reg, HELP_REASON)
    return ClerkCalled(owned.label)
