"""The subscriber certificate as the customer confirms it at step 9: its validity, which step
owns each of its fields, and which fields the customer may still change alone.

Decree 23/2025/NĐ-CP on electronic signatures and trust services (in force since 10 April
2025): a public subscriber certificate is valid for at most 3 years, and it is published only
after the subscriber has confirmed that the certificate's information is correct. Step 9 is
that confirmation; the package catalogue keeps to the 3 years.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from kiosk.domain import flow

# Decree 23/2025/NĐ-CP, its provisions on public subscriber certificates: at most 3 years.
MAX_CERTIFICATE_MONTHS = 36
TOO_LONG = "Thời hạn chứng thư số tối đa 36 tháng (Nghị định 23/2025/NĐ-CP)."
# Recorded on a package the 0007 migration took off sale (service_package.retired_reason).
RETIRED_TOO_LONG = "over_max_certificate_months"


def months_problem(months: int) -> str | None:
    """Why a package of ``months`` cannot be sold, in Vietnamese; None when it can."""
    if months > MAX_CERTIFICATE_MONTHS:
        return TOO_LONG
    return None


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months; a day the target month lacks becomes its last
    day (31 January + 1 month = 28 or 29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def validity(start: date, months: int) -> tuple[date, date]:
    """(valid from, valid until) of a certificate issued on ``start`` for ``months``."""
    return start, add_months(start, months)


@dataclass(frozen=True)
class CertificateField:
    key: str
    label: str
    step: int  # the wizard step whose form sets it


# In the order the certificate and the confirmation screen list them. The ID number and the
# phone are typed (or read from the card) at step 1; the package is step 2; the rest is the
# personal form of step 3 (the e-mail included).
FIELDS: tuple[CertificateField, ...] = (
    CertificateField("full_name", "Họ và tên", 3),
    CertificateField("id_number", "Số giấy tờ", 1),
    CertificateField("address", "Địa chỉ hiện tại", 3),
    CertificateField("province", "Tỉnh/thành phố", 3),
    CertificateField("email", "Email", 3),
    CertificateField("phone", "Số điện thoại", 1),
    CertificateField("package", "Gói dịch vụ", 2),
    CertificateField("validity", "Thời hạn chứng thư số", 2),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)


def field(key: str) -> CertificateField:
    for f in FIELDS:
        if f.key == key:
            return f
    raise KeyError(key)


def owner_step(key: str) -> int:
    """The step whose form sets the field ``key``."""
    return field(key).step


def customer_may_change(key: str, furthest_step: int, finished: bool) -> bool:
    """Whether the customer can still correct ``key`` alone, by going back to its step. After
    step 4 the backend holds the data and completed steps are read-only (flow.access): a wrong
    field then needs a clerk."""
    return flow.access(owner_step(key), furthest_step, finished) == flow.Access.EDIT


def province_of(address: str) -> str:
    """The province of a Vietnamese address written small-to-large ("…, Phường X, Tỉnh Y"):
    its last comma-separated part."""
    parts = [p.strip() for p in str(address or "").split(",") if p.strip()]
    return parts[-1] if parts else ""
