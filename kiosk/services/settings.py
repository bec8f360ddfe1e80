"""Settings an admin keeps right: packages and prices, kiosks and their printers (every change
is audited); and which office's contact a screen or a document shows (the offices themselves
are services/offices.py).

Changes are flushed, not committed: the request (or the CLI command) commits once the change
has returned (services/unit_of_work); a refused change raises SettingsError before it writes."""
from __future__ import annotations

import re

from flask import g
from sqlalchemy import func, select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, ServicePackage, StaffUser
from kiosk.domain import certificate, free_text
from kiosk.services import rows

PRINTERS = {"": "Theo cấu hình chung", "browser": "Trình duyệt (hộp thoại in)",
            "cups": "Máy in CUPS (lp)", "file": "Lưu tệp PDF"}
MAX_PRICE_VND = 100_000_000
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,49}$")
_KIOSK_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
_QUEUE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class SettingsError(ValueError):
    """A Vietnamese message for the form."""


def printed_text(value, label: str, max_len: int = 200, required: bool = True,
                 error: type[ValueError] = SettingsError) -> str:
    """A console field the documents print (a package or office name, an address): spaces
    collapsed; hidden, bidi and emoji characters refused; ``error`` says what is wrong in
    Vietnamese, naming the field."""
    if problem := free_text.problem(str(value or ""), printed=True):
        raise error(problem)
    text = " ".join(str(value or "").split())
    if required and not text:
        raise error(f"Vui lòng nhập {label}.")
    if len(text) > max_len:
        raise error(f"{label[:1].upper() + label[1:]} dài quá {max_len} ký tự.")
    return text



def parse_price(raw) -> int:
    """"250.000", "250 000 đ", "250000" → 250000 (VND has no minor unit)."""
    text = str(raw or "").strip()
    if not text or not re.fullmatch(r"[0-9.,\s]+(đ|₫|vnd|VND|VNĐ)?", text):
        raise SettingsError("Giá: nhập số tiền bằng đồng, ví dụ 250.000.")
    digits = re.sub(r"\D", "", text)
    price = int(digits) if digits else 0
    if not 0 < price <= MAX_PRICE_VND:
        raise SettingsError("Giá phải lớn hơn 0 và không quá 100.000.000 đ.")
    return price


def _months(raw) -> int:
    try:
        months = int(str(raw).strip())
    except ValueError:
        raise SettingsError("Thời hạn: nhập số tháng, ví dụ 12.") from None
    if months < 1:
        raise SettingsError("Thời hạn ít nhất 1 tháng.")
    if problem := certificate.months_problem(months):
        raise SettingsError(problem)
    return months


# ---- packages -------------------------------------------------------------------------------

def packages() -> list[ServicePackage]:
    return list(db.session.scalars(select(ServicePackage).order_by(
        ServicePackage.active.desc(), ServicePackage.sort_order, ServicePackage.id)))


def get_package(package_id: int) -> ServicePackage | None:
    return rows.get(ServicePackage, package_id)


def save_package(actor: StaffUser, form, package: ServicePackage | None = None) -> ServicePackage:
    name = printed_text(form.get("name"), "tên gói")
    months = _months(form.get("duration_months"))
    price = parse_price(form.get("price_vnd"))
    description = printed_text(form.get("description"), "mô tả", 500, required=False)
    if package is None:
        code = printed_text(form.get("code"), "mã gói", 50).upper()
        if not _CODE.match(code):
            raise SettingsError("Mã gói: chữ in hoa, số, dấu chấm, gạch ngang (ví dụ SMARTCA-CN-12).")
        if db.session.scalar(select(ServicePackage.id).where(ServicePackage.code == code)):
            raise SettingsError("Mã gói này đã có.")
        order = db.session.scalar(select(func.max(ServicePackage.sort_order))) or 0
        package = ServicePackage(code=code, sort_order=order + 1, active=True)
        db.session.add(package)
        event = "package_created"
    else:
        event = "package_updated"
    package.name, package.duration_months, package.price_vnd = name, months, price
    package.description = description
    # Saved within the limit: the migration's reason for taking it off sale no longer holds.
    package.retired_reason = None
    # A price a person has set is no longer the seed's example: «giá mẫu» goes away.
    package.is_sample = False
    db.session.flush()
    audit.record(event, actor=actor.actor, package=package.code, price_vnd=price,
                 duration_months=months)
    return package


def set_package_active(actor: StaffUser, package: ServicePackage, active: bool) -> None:
    if not active:
        others = db.session.scalar(select(func.count(ServicePackage.id)).where(
            ServicePackage.active.is_(True), ServicePackage.id != package.id))
        if not others:
            raise SettingsError("Cần giữ ít nhất một gói đang bán.")
    elif problem := certificate.months_problem(package.duration_months):
        # Put back on sale only once its duration has been brought within the decree's limit.
        raise SettingsError(problem)
    package.active = active
    audit.record("package_restored" if active else "package_retired", actor=actor.actor,
                 package=package.code)


# ---- office ---------------------------------------------------------------------------------
# Which office's contact a screen or a document shows. Each office is read at most once per
# request and kept in ``g``: the footer, the documents and the receipt ask for it ~20 times
# per registration.

def _office_by_id(office_id: int | None) -> Office | None:
    if not office_id:
        return None
    cache = g.setdefault("offices_by_id", {})
    if office_id not in cache:
        cache[office_id] = db.session.get(Office, office_id)
    return cache[office_id]


def default_office() -> Office | None:
    """The first office made (the one ``flask --app kiosk init`` seeds): the contact of
    registrations that have no office of their own."""
    if "default_office" not in g:
        g.default_office = db.session.scalar(select(Office).order_by(Office.id).limit(1))
    return g.default_office


def office_for(reg) -> Office | None:
    """The office of a registration (its receipt and documents carry its contact); the
    default office for one that has none."""
    return _office_by_id(getattr(reg, "office_id", None)) or default_office()


def office() -> Office | None:
    """The office of this request's screen: the kiosk's own office once the kiosk is known
    (``g.kiosk``, set by the kiosk's device check), else the registration's shown on it
    (``g.registration``, when set), else the default office."""
    if "office" not in g:
        kiosk = g.get("kiosk")
        found = _office_by_id(getattr(kiosk, "office_id", None))
        if found is None and g.get("registration") is not None:
            found = _office_by_id(getattr(g.registration, "office_id", None))
        g.office = found or default_office()
    return g.office


# ---- kiosks ---------------------------------------------------------------------------------

def kiosks() -> list[Kiosk]:
    return list(db.session.scalars(select(Kiosk).order_by(Kiosk.code)))


def get_kiosk(kiosk_id: int) -> Kiosk | None:
    return rows.get(Kiosk, kiosk_id)


def save_kiosk(actor: StaffUser, form, kiosk: Kiosk | None = None) -> Kiosk:
    name = printed_text(form.get("name"), "tên quầy")
    printer = str(form.get("printer") or "")
    if printer not in PRINTERS:
        raise SettingsError("Chọn một kiểu máy in trong danh sách.")
    queue = printed_text(form.get("printer_queue"), "tên hàng đợi in", 100, required=False) or None
    if printer == "cups" and not queue:
        raise SettingsError("Máy in CUPS cần tên hàng đợi in (lp -d …).")
    if queue and not _QUEUE.match(queue):
        raise SettingsError("Tên hàng đợi in chỉ gồm chữ, số, dấu chấm, gạch dưới, gạch ngang.")
    if kiosk is None:
        code = printed_text(form.get("code"), "mã quầy", 50).lower()
        if not _KIOSK_CODE.match(code):
            raise SettingsError("Mã quầy: chữ thường, số, gạch ngang (ví dụ quay-01), "
                                "mỗi máy kiosk được ghép với một quầy.")
        if db.session.scalar(select(Kiosk.id).where(Kiosk.code == code)):
            raise SettingsError("Mã quầy này đã có.")
        kiosk = Kiosk(code=code)
        db.session.add(kiosk)
    kiosk.name, kiosk.printer, kiosk.printer_queue = name, printer, queue
    if "office_id" in form or kiosk.office_id is None:
        # a form without the field (an older page) keeps the kiosk's office, if it has one
        kiosk.office_id = _office_id(form.get("office_id"))
    kiosk.active = form.get("active", "1") == "1"
    audit.record("kiosk_saved", actor=actor.actor, kiosk=kiosk.code, printer=printer or "default")
    db.session.flush()
    return kiosk


def _office_id(raw) -> int:
    """The office picked for a kiosk: an active Office row. Never none: its customers' calls
    for help go to that office's clerks, and a kiosk without one would call nobody."""
    office = rows.from_form(Office, raw)
    if office is None:
        raise SettingsError("Chọn đơn vị của quầy: khách ở quầy này gọi nhân viên của đơn vị đó.")
    if not office.active:
        raise SettingsError("Đơn vị này đã ngừng hoạt động: chọn một đơn vị đang hoạt động.")
    return office.id


def printer_for(kiosk_code: str):
    """The printer set for this kiosk in the console, or None for the app's PRINTER setting."""
    from flask import current_app

    from kiosk.providers.printing import BrowserPrinter, CupsPrinter, FilePrinter

    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.code == kiosk_code))
    if kiosk is None or not kiosk.printer:
        return None
    if kiosk.printer == "cups":
        return CupsPrinter(kiosk.printer_queue or "", str(current_app.config.get("PRINTER_LP_PATH") or "lp"))
    if kiosk.printer == "file":
        import os

        return FilePrinter(current_app.config.get("PRINTER_DIRECTORY")
                           or os.path.join(current_app.instance_path, "prints"))
    return BrowserPrinter()
