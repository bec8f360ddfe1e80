"""What a clerk does to one registration from the console, each action audited: resume it on a
kiosk, cancel it with a reason, reprint the receipt, unlock the activation-code step.

Each action flushes its rows and the request commits them (services/unit_of_work). The slow
part of an action (printing, sending a new activation code) runs before it writes anything,
so SQLite's write lock is never held across a printer or a provider call.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Registration, StaffUser, utcnow
from kiosk.providers import ProviderError
from kiosk.services import paperwork, registrations

# No look-alike characters: a clerk reads the code out or types it on the kiosk.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# A finished registration's done screen stays open DONE_RETURN_SECONDS plus this (the same
# grace as web/wizard/state.DONE_GRACE_SECONDS).
DONE_SCREEN_GRACE_SECONDS = 30
CANCEL_REASONS = {
    "customer_left": "Khách đã về, không làm tiếp",
    "customer_request": "Khách yêu cầu hủy",
    "wrong_person_or_document": "Sai người hoặc sai giấy tờ",
    "duplicate": "Hồ sơ trùng (khách đã làm hồ sơ khác)",
    "other": "Lý do khác (ghi chú)",
}


class ActionError(Exception):
    """A Vietnamese message for the clerk."""


def _digest(code: str) -> str:
    return current_app.extensions["kiosk_cipher"].lookup_digest("resume:" + code)


def _open(reg: Registration) -> None:
    if reg.status != "in_progress":
        raise ActionError("Hồ sơ đã hoàn tất hoặc đã hủy.")


def new_resume_code(reg: Registration, clerk: StaffUser) -> str:
    """A one-time code that continues this registration on the kiosk where it is typed."""
    _open(reg)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    reg.resume_code_digest = _digest(code)
    reg.resume_code_expires_at = utcnow() + timedelta(
        seconds=current_app.config["RESUME_CODE_TTL_SECONDS"])
    audit.record("resume_code_issued", reg, actor=clerk.actor)
    db.session.flush()
    return code


def redeem_resume_code(raw: str, kiosk: Kiosk) -> Registration | None:
    """The registration a valid, unexpired code names (the code is used up), else None. It
    moves to the kiosk that redeemed the code, and to that kiosk's office: the customer now
    stands there, and that office's clerks answer its calls."""
    code = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    if len(code) != CODE_LENGTH or not code.isascii():
        return None
    reg = db.session.scalar(select(Registration).where(
        Registration.resume_code_digest == _digest(code)))
    if (reg is None or reg.status != "in_progress" or reg.resume_code_expires_at is None
            or reg.resume_code_expires_at < utcnow()):
        return None
    previous = reg.kiosk_id
    # Used up in one conditional UPDATE: of two kiosks typing the same code at the same moment,
    # the second finds the code gone (its UPDATE waits for the first request's commit, then
    # matches no row) instead of both taking the registration.
    taken = db.session.execute(
        update(Registration)
        .where(Registration.id == reg.id, Registration.resume_code_digest == reg.resume_code_digest)
        .values(resume_code_digest=None, resume_code_expires_at=None, kiosk_id=kiosk.code,
                office_id=kiosk.office_id)
    ).rowcount
    if taken != 1:
        return None
    db.session.refresh(reg)
    audit.record("registration_resumed", reg, actor="system", kiosk=kiosk.code,
                 previous_kiosk=previous)
    return reg


def cancel(reg: Registration, clerk: StaffUser, reason: str, note: str = "") -> None:
    _open(reg)
    if reason not in CANCEL_REASONS:
        raise ActionError("Vui lòng chọn lý do hủy.")
    note = " ".join((note or "").split())[:300]
    if reason == "other" and not note:
        raise ActionError("Vui lòng ghi rõ lý do hủy.")
    reg.status = "cancelled"
    reg.resume_code_digest = reg.resume_code_expires_at = None
    audit.record("registration_cancelled", reg, actor=clerk.actor, reason=reason, note=note)
    registrations.help_handled(reg, clerk.actor, "cancelled")


@dataclass(frozen=True)
class Reprint:
    """What the console says after «In lại phiếu»: ``message`` where the receipt went, or why it
    did not (``failed``)."""

    message: str
    failed: bool = False


def _kiosk_screen_open(reg: Registration) -> bool:
    """The kiosk still shows this registration's done screen (wizard/state.still_on_screen)."""
    if reg.finished_at is None:
        return False
    open_for = current_app.config["DONE_RETURN_SECONDS"] + DONE_SCREEN_GRACE_SECONDS
    return (utcnow() - reg.finished_at).total_seconds() <= open_for


def reprint_receipt(reg: Registration, clerk: StaffUser) -> Reprint:
    """Render the receipt again (with today's office details) and send it where this kiosk
    prints. The new receipt is kept either way (the clerk can download it from the page).

    A kiosk whose printer is its browser has nothing the server can send to: the receipt goes
    to that kiosk's screen while it still shows the done screen (it polls, draws the receipt and
    prints it through its browser), and the clerk is told plainly when it does not."""
    if not reg.finished:
        raise ActionError("Chỉ in lại phiếu của hồ sơ đã hoàn tất.")
    kiosk = reg.kiosk_id or "(không rõ quầy)"
    pdf = paperwork.render_receipt_for(reg)
    if paperwork.printer_mode(reg.kiosk_id) == "browser":
        paperwork.store_document(reg, "receipt", pdf)
        if _kiosk_screen_open(reg):
            audit.record("receipt_reprinted", reg, actor=clerk.actor, to=paperwork.SCREEN_REPRINT)
            db.session.flush()
            return Reprint(f"Đã gửi phiếu tới màn hình quầy {kiosk}: máy sẽ hiện phiếu và in qua "
                           "trình duyệt của máy trong vài giây.")
        audit.record("receipt_reprinted", reg, actor=clerk.actor, to="none")
        db.session.flush()
        return Reprint(f"Không gửi được phiếu tới quầy {kiosk}: máy đó in qua trình duyệt và đã "
                       "rời màn hình hoàn tất của hồ sơ này. Vui lòng tải phiếu ở mục Tài liệu "
                       "để in.", failed=True)
    # Render and print before writing: the request holds no write lock while the printer works.
    # The clerk is the one printing: a failure is on their screen, nobody else to call.
    outcome = paperwork.send_receipt(reg, pdf, call_clerk=False)
    paperwork.store_document(reg, "receipt", pdf)
    audit.record("receipt_reprinted", reg, actor=clerk.actor, to=outcome.mode or "failed")
    db.session.flush()
    if outcome.error:
        return Reprint(f"Chưa in được phiếu: {outcome.error} Có thể tải phiếu ở mục Tài liệu.",
                       failed=True)
    where = ("máy in của quầy (hàng đợi CUPS)" if outcome.mode == "cups"
             else "thư mục in của máy chủ")
    return Reprint(f"Đã gửi phiếu tới {where}. Có thể tải phiếu ở mục Tài liệu.")


def otp_locked(reg: Registration) -> bool:
    cfg = current_app.config
    if reg.status != "in_progress" or reg.provisioned_at is None or reg.otp_verified_at is not None:
        return False
    return (reg.otp_failed_attempts >= cfg["OTP_MAX_ATTEMPTS"]
            or reg.otp_sends - 1 >= cfg["OTP_MAX_RESENDS"])


def unlock_otp(reg: Registration, clerk: StaffUser) -> None:
    """Send a new activation code and give the customer their attempts back."""
    if not otp_locked(reg):
        raise ActionError("Bước nhập mã kích hoạt của hồ sơ này không bị khóa.")
    try:
        providers.registration_backend().send_activation(reg.subscriber_ref, reg.data["phone"])
    except ProviderError as err:
        db.session.rollback()
        raise ActionError(err.message) from None
    reg.otp_failed_attempts = 0
    reg.otp_sends = 1
    reg.otp_sent_at = utcnow()
    audit.record("otp_unlocked", reg, actor=clerk.actor)
    registrations.help_handled(reg, clerk.actor, "otp_unlocked")


def help_done(reg: Registration, clerk: StaffUser) -> None:
    """A clerk has helped a customer who pressed «Gọi nhân viên»: the kiosk goes back to its step.
    (Step-6 reviews are closed by approve/reject, not here.)"""
    from kiosk.services import review

    if reg.help_requested_at is None:
        raise ActionError("Hồ sơ này không chờ nhân viên.")
    if review.needs_clerk(reg):
        raise ActionError("Máy đang chờ nhân viên xác nhận ảnh: vui lòng dùng «Xem xét».")
    registrations.help_handled(reg, clerk.actor, "helped")
