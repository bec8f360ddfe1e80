"""What the console's live board and search show: today's registrations by kiosk, masked.

Lists never show a personal number in full (ID number and phone are masked); the detail page
shows them to the clerk who opens it, and the opening is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Registration, StaffUser, utcnow
from kiosk.domain import flow
from kiosk.domain.identity import IdentityError, normalize_mobile
from kiosk.domain.identity.phone import mask_phone
from kiosk.domain.kyc import HELP_REASONS
from kiosk.domain.local_time import LOCAL_TZ
from kiosk.services import office_scope

STATUS_LABELS = {"in_progress": "Đang làm", "finished": "Hoàn tất", "cancelled": "Đã hủy"}
# Phone numbers are inside the encrypted personal document: a phone search decrypts the
# registrations of this many recent days (a counter's volume), never the whole table.
PHONE_SEARCH_DAYS = 90


def mask_id(number: str | None) -> str:
    """"038085012345" → "038******345": province code and last digits, enough to tell two
    customers apart at the counter, not enough to use the number."""
    if not number:
        return ""
    if len(number) <= 6:
        return number[0] + "*" * (len(number) - 1)
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


def local_day_start(day=None) -> datetime:
    now = utcnow().astimezone(LOCAL_TZ)
    day = day or now.date()
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


@dataclass
class Row:
    reg: Registration
    step_label: str
    status_label: str
    masked_id: str
    masked_phone: str
    full_name: str
    waiting_minutes: int | None  # waiting for a clerk, minutes
    idle_minutes: int  # since the last change
    help_label: str | None
    abandoned: bool


def row(reg: Registration, now: datetime | None = None) -> Row:
    now = now or utcnow()
    data = reg.data
    if reg.status == "in_progress" and reg.current_step <= flow.LAST_STEP:
        step = f"{reg.current_step}. {flow.step(reg.current_step).title}"
    else:
        step = "—"
    waiting = None
    if reg.help_requested_at is not None:
        waiting = int((now - reg.help_requested_at).total_seconds() // 60)
    idle = int((now - reg.updated_at).total_seconds() // 60)
    return Row(
        reg=reg, step_label=step, status_label=STATUS_LABELS.get(reg.status, reg.status),
        masked_id=mask_id(data.get("id_number")),
        masked_phone=mask_phone(data["phone"]) if data.get("phone") else "",
        full_name=data.get("full_name", ""), waiting_minutes=waiting, idle_minutes=idle,
        help_label=HELP_REASONS.get(reg.help_reason) if reg.help_reason else None,
        abandoned=is_abandoned(reg, now),
    )


def is_abandoned(reg: Registration, now: datetime | None = None) -> bool:
    now = now or utcnow()
    limit = current_app.config["ABANDONED_AFTER_SECONDS"]
    return reg.status == "in_progress" and (now - reg.updated_at).total_seconds() > limit


def waiting_for_clerk(staff: StaffUser, office_filter: int | None = None) -> list[Registration]:
    """Everyone waiting for a clerk of ``staff``'s office, longest wait first: registrations in
    progress (the review queue, «Gọi nhân viên», a blocked step) and finished ones whose receipt
    did not print (the customer is still at the kiosk, the only call a finished registration
    may make). The nav's badge counts these, so its chime rings for this office's calls only."""
    return list(db.session.scalars(
        office_scope.visible(select(Registration), staff, office_filter).where(
            Registration.help_requested_at.is_not(None),
            or_(Registration.status == "in_progress",
                and_(Registration.status == "finished",
                     Registration.help_reason == "printer_error")))
        .order_by(Registration.help_requested_at)))


def staff_names() -> dict[str, str]:
    """username → full name, so the console shows a clerk's name where the log stores
    ``staff:<username>``."""
    return {u: n for u, n in db.session.execute(select(StaffUser.username, StaffUser.full_name))}


def undeclared_kiosks() -> list[str]:
    """Kiosk codes registrations came from (older registrations, or a kiosk removed since) that the settings do not
    declare: in use, with no name and no printer setting of their own."""
    used = set(db.session.scalars(select(Registration.kiosk_id).distinct()))
    declared = set(db.session.scalars(select(Kiosk.code)))
    return sorted(code for code in used - declared if code)


def kiosk_names() -> dict[str, str]:
    return {k.code: k.name for k in db.session.scalars(select(Kiosk))}


def today_by_kiosk(staff: StaffUser, office_filter: int | None = None
                   ) -> list[tuple[str, str, list[Row]]]:
    """[(kiosk code, kiosk name, rows newest first)] for today (office time), of the offices
    ``staff`` may see."""
    start = local_day_start()
    regs = db.session.scalars(
        office_scope.visible(select(Registration), staff, office_filter)
        .where(Registration.created_at >= start).order_by(Registration.id.desc()))
    names = kiosk_names()
    now = utcnow()
    groups: dict[str, list[Row]] = {}
    for reg in regs:
        groups.setdefault(reg.kiosk_id or "", []).append(row(reg, now))
    return [(code, names.get(code, code or "(không rõ quầy)"), rows)
            for code, rows in sorted(groups.items())]


def search(query: str, staff: StaffUser, office_filter: int | None = None,
           limit: int = 50) -> list[Row]:
    """By registration number (or part of it), ID number (keyed digest) or phone number, among
    the offices ``staff`` may see."""
    query = (query or "").strip()
    if not query:
        return []
    compact = re.sub(r"[\s.\-]", "", query).upper()
    conditions = []
    if re.fullmatch(r"[A-Z0-9]{8,12}", compact):
        digest = current_app.extensions["kiosk_cipher"].lookup_digest(compact)
        conditions.append(Registration.id_digest == digest)
    if len(compact) >= 4 and re.fullmatch(r"[A-Z0-9\-]+", query.strip().upper().replace(" ", "")):
        conditions.append(Registration.number.contains(query.strip().upper()))
    found: dict[int, Registration] = {}
    if conditions:
        for reg in db.session.scalars(office_scope.visible(select(Registration), staff,
                                                           office_filter)
                                      .where(or_(*conditions))
                                      .order_by(Registration.id.desc()).limit(limit)):
            found[reg.id] = reg
    try:
        phone = normalize_mobile(query)
    except IdentityError:
        phone = None
    if phone is not None:
        since = utcnow() - timedelta(days=PHONE_SEARCH_DAYS)
        for reg in db.session.scalars(office_scope.visible(select(Registration), staff,
                                                           office_filter)
                                      .where(Registration.created_at >= since)
                                      .order_by(Registration.id.desc())):
            if reg.data.get("phone") == phone:
                found[reg.id] = reg
            if len(found) >= limit:
                break
    now = utcnow()
    return [row(reg, now) for reg in sorted(found.values(), key=lambda r: -r.id)]


def find_by_number(number: str, staff: StaffUser) -> Registration | None:
    """The registration with this number if ``staff`` may see it, else None (a 404 for the
    console: another office's number looks like no number at all)."""
    reg = db.session.scalar(select(Registration).where(Registration.number == number))
    return reg if office_scope.can_see(staff, reg) else None
