"""Kiosk PCs: enrolled once from the console with a one-time code, then known by a device token.

Only an enrolled kiosk starts registrations, continues one with a clerk's code and prints; any
other browser that reaches the server gets the enrollment screen. The kiosk's browser keeps a
long random token in a cookie; the database keeps only its keyed digest (kiosk/core/crypto.py),
as it does for resume codes: a copy of the database (a backup, a leaked dump) cannot be turned
into a kiosk. The one-time code is short enough to type on a touch screen, so it is kept the
same way, lives ~15 minutes, is used up in one conditional UPDATE (of two browsers typing it at
once, one wins), and wrong codes are throttled per source by the caller.

Every function only changes rows in the caller's session: the request (or the CLI command)
commits once after it returns (services/unit_of_work.py).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import contains_eager

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, StaffUser, utcnow
from kiosk.domain import kiosk_health
from kiosk.services import chip_reading

# No look-alike characters (the same alphabet as resume codes): read out, typed on a screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
TOKEN_BYTES = 32
# The kiosk page reports every ~30 s; at most one write per kiosk this often, so a hundred
# kiosks cost a few writes a second at most, whatever their pages do.
REPORT_EVERY = timedelta(seconds=20)


class KioskError(Exception):
    """A Vietnamese message for the clerk or the CLI."""


def _ring():
    return current_app.extensions["kiosk_cipher"]


def _code_digest(code: str) -> str:
    return _ring().lookup_digest("kiosk-enroll:" + code)


def _token_digests(token: str) -> list[str]:
    return _ring().lookup_digests("kiosk-device:" + token)


def normalise_code(raw: str | None) -> str:
    """What was typed, as a code: upper case, spaces and dashes dropped (8 characters are often
    typed as two groups of four)."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


# ---- the console and the CLI ------------------------------------------------------------------

def may_manage(user: StaffUser, kiosk: Kiosk) -> bool:
    """An administrator manages every kiosk; a clerk the kiosks of their own office (the clerk
    standing next to a replaced kiosk PC enrolls it without waiting for an administrator)."""
    if user.is_admin:
        return True
    return user.office_id is not None and user.office_id == kiosk.office_id


def new_enrollment_code(kiosk: Kiosk, actor: str) -> str:
    """A one-time code that enrolls the browser it is typed in as this kiosk (shown once)."""
    if not kiosk.active:
        raise KioskError("Quầy đang tạm ngừng: mở lại quầy trước khi ghép máy.")
    if kiosk.office_id is None:
        raise KioskError("Chọn đơn vị cho quầy trước khi ghép máy.")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    kiosk.enrollment_code_digest = _code_digest(code)
    kiosk.enrollment_expires_at = utcnow() + CODE_TTL
    audit.record("kiosk_enrollment_code_issued", actor=actor, kiosk=kiosk.code)
    db.session.flush()
    return code


def revoke(kiosk: Kiosk, actor: str) -> None:
    """The browser enrolled as this kiosk is one no longer: its next request gets the
    enrollment screen. A code not yet used is void too."""
    kiosk.device_token_digest = None
    kiosk.enrollment_code_digest = kiosk.enrollment_expires_at = None
    kiosk.revoked_at = utcnow()
    audit.record("kiosk_revoked", actor=actor, kiosk=kiosk.code)
    db.session.flush()


def by_code(code: str) -> Kiosk | None:
    return db.session.scalar(select(Kiosk).where(Kiosk.code == code))


def office_by_code(code: str) -> Office | None:
    return db.session.scalar(select(Office).where(Office.code == code))


def first_office() -> Office | None:
    return db.session.scalar(select(Office).order_by(Office.id).limit(1))


def add(code: str, name: str, office: Office | None, actor: str) -> Kiosk:
    """A new kiosk (the CLI's ``kiosks add``; the console's form is settings.save_kiosk)."""
    if by_code(code) is not None:
        raise KioskError("Mã quầy này đã có.")
    kiosk = Kiosk(code=code, name=name, office_id=office.id if office else None, printer="",
                  active=True)
    db.session.add(kiosk)
    audit.record("kiosk_saved", actor=actor, kiosk=code, printer="default")
    db.session.flush()
    return kiosk


# ---- the kiosk's browser ------------------------------------------------------------------------

def bind_device(kiosk: Kiosk, token: str) -> None:
    """This token is now the kiosk's credential (replacing any earlier one)."""
    kiosk.device_token_digest = _token_digests(token)[0]
    kiosk.enrolled_at = utcnow()
    kiosk.revoked_at = None


def redeem(raw_code: str) -> tuple[Kiosk, str] | None:
    """Enroll with a one-time code: ``(kiosk, device token)`` for the cookie, or None (wrong,
    expired or used code, or a kiosk stopped meanwhile)."""
    code = normalise_code(raw_code)
    if len(code) != CODE_LENGTH or not code.isascii():
        return None
    digest = _code_digest(code)
    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.enrollment_code_digest == digest))
    if (kiosk is None or not kiosk.active or kiosk.office_id is None
            or kiosk.enrollment_expires_at is None or kiosk.enrollment_expires_at < utcnow()):
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # Used up in one conditional UPDATE: of two browsers redeeming the same code at once, the
    # second's UPDATE waits for the first's commit, then matches no row.
    taken = db.session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk.id, Kiosk.enrollment_code_digest == digest)
        .values(enrollment_code_digest=None, enrollment_expires_at=None,
                device_token_digest=_token_digests(token)[0], enrolled_at=utcnow(),
                revoked_at=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if taken != 1:
        return None
    audit.record("kiosk_enrolled", actor="system", kiosk=kiosk.code)
    return kiosk, token


# Every kiosk request starts with this query: built once (as registrations._BY_TOKEN).
# Its office comes in the same round trip: most screens show the office's contact, and
# settings.office then finds it in the session instead of asking the database again.
_BY_DEVICE_DIGESTS = (
    select(Kiosk).outerjoin(Kiosk.office).options(contains_eager(Kiosk.office))
    .where(Kiosk.device_token_digest.in_(bindparam("digests", expanding=True))))


def identify(token: str | None) -> Kiosk | None:
    """The kiosk a wizard request comes from (:func:`by_device_token`). Its read is the start
    of the request's transaction, on the connection the request goes on using: no commit, no
    second connection taken from the pool and pinged. (The sign-in throttle, which counts a try
    on a connection of its own, ends a transaction that has only read first:
    unit_of_work.end_read.) A digest moved to the primary key is committed at once: that
    write must not hold SQLite's lock through the request's slow work."""
    kiosk = by_device_token(token)
    if kiosk is not None and kiosk in db.session.dirty:
        db.session.commit()
    return kiosk


def by_device_token(token: str | None) -> Kiosk | None:
    """The enrolled, active kiosk this device token names, or None. One indexed look-up (the
    digests under every data key: a key rotation does not unenroll the kiosks)."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    digests = _token_digests(token)
    kiosk = db.session.scalar(_BY_DEVICE_DIGESTS, {"digests": digests})
    if (kiosk is None or not kiosk.active or kiosk.revoked_at is not None
            or kiosk.office_id is None):  # no office: its customers' calls would reach nobody
        return None
    if kiosk.device_token_digest != digests[0]:
        kiosk.device_token_digest = digests[0]  # found under an older key: move to the primary
    return kiosk


def report_state(kiosk: Kiosk, raw: dict, now: datetime | None = None) -> bool:
    """Store what the kiosk says of itself (validated, see domain/kiosk_health) and when it was
    last heard from; at most once per REPORT_EVERY per kiosk (a conditional UPDATE, so parallel
    reports from several pages of one kiosk write once). True when written."""
    now = now or utcnow()
    if kiosk.last_seen_at is not None and kiosk.last_seen_at >= now - REPORT_EVERY:
        return False  # written a moment ago (the UPDATE below settles parallel reports)
    state = {**(kiosk.device_state or {}), **kiosk_health.clean_report(raw),
             "reader": _reader_state()}
    written = db.session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk.id,
               or_(Kiosk.last_seen_at.is_(None), Kiosk.last_seen_at < now - REPORT_EVERY))
        .values(last_seen_at=now, device_state=state)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return written == 1


def _reader_state() -> str:
    """The chip reader as the server sees it (the same status the chip screens poll)."""
    if not chip_reading.enabled():
        return "off"
    try:
        return "present" if chip_reading.reader_status().get("ready") else "absent"
    except Exception:  # a state report never fails because of the reader
        return "absent"


def note_print(kiosk_code: str | None, ok: bool) -> None:
    """The last print's outcome, for the console's kiosk list (the server knows it, the kiosk
    need not say it)."""
    kiosk = by_code(kiosk_code) if kiosk_code else None
    if kiosk is None:
        return
    # its own column: the kiosk's state report, written by other requests, never touches it
    kiosk.print_state = {"print": "ok" if ok else "error",
                         "print_at": utcnow().isoformat(timespec="seconds")}


# ---- the console's list ------------------------------------------------------------------------

@dataclass(frozen=True)
class KioskRow:
    kiosk: Kiosk
    office: Office | None
    enrolled: bool
    code_pending: bool
    last_seen: str
    stale: bool
    camera: str
    reader: str
    printer: str
    screen: str
    user_agent: str
    manageable: bool


def rows_for(user: StaffUser, printer_modes: dict[str, str]) -> list[KioskRow]:
    """The kiosks this user sees (an administrator all, a clerk their office's), with state.
    ``printer_modes`` labels a kiosk's printer setting ("" = the app's)."""
    query = select(Kiosk).order_by(Kiosk.code)
    if not user.is_admin:
        if user.office_id is None:
            return []  # a clerk of no office manages no kiosk
        query = query.where(Kiosk.office_id == user.office_id)
    offices = {o.id: o for o in db.session.scalars(select(Office))}
    now = utcnow()
    result = []
    for kiosk in db.session.scalars(query):
        state = kiosk.device_state or {}
        enrolled = kiosk.device_token_digest is not None
        pending = (kiosk.enrollment_code_digest is not None
                   and kiosk.enrollment_expires_at is not None
                   and kiosk.enrollment_expires_at > now)
        last_print = (kiosk.print_state or {}).get("print")
        printed = kiosk_health.PRINT_OUTCOMES[last_print if last_print in ("ok", "error")
                                              else "none"]
        result.append(KioskRow(
            kiosk=kiosk, office=offices.get(kiosk.office_id), enrolled=enrolled,
            code_pending=pending,
            last_seen=kiosk_health.ago(kiosk.last_seen_at, now),
            stale=enrolled and kiosk.active and kiosk_health.stale(kiosk.last_seen_at, now),
            camera=kiosk_health.CAMERA_STATES.get(state.get("camera"), "Chưa rõ"),
            reader=kiosk_health.READER_STATES.get(state.get("reader"), "Chưa rõ"),
            printer=f"{printer_modes.get(kiosk.printer, kiosk.printer or 'mặc định')}: {printed}",
            screen=state.get("screen") or "",
            user_agent=state.get("user_agent") or "",
            manageable=may_manage(user, kiosk)))
    return result


def offices() -> list[Office]:
    return list(db.session.scalars(select(Office).order_by(Office.name)))
