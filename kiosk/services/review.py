"""The clerks' review of step 6: the queue the kiosk waits on, approve, reject.

When the machine cannot decide alone (REVIEW, NO_FACE, NO_MATCH after FACE_MAX_ATTEMPTS) the
registration joins the queue by itself (``queue_if_needed``); the kiosk shows the waiting panel
and polls. A clerk approves or rejects in the console, or at the kiosk with their credentials;
either way the request is marked handled and the waiting kiosk moves on (the next step after an
approval, the retake after a rejection).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, StaffUser
from kiosk.domain import free_text
from kiosk.domain.kyc import Decision, face_reason
from kiosk.providers import ProviderError
from kiosk.services import ekyc, identity_record, office_scope, registrations

STEP = 6
OTHER_OFFICE = ("Tài khoản này thuộc đơn vị khác: nhân viên của đơn vị có quầy này xác nhận "
                "hồ sơ.")
# The machine's decision → the queue reason (domain.kyc.HELP_REASONS).
QUEUE_REASON = {
    Decision.REVIEW.value: "face_review",
    Decision.NO_FACE.value: "no_face",
    Decision.NO_MATCH.value: "no_match",
}
# A REVIEW whose face matched but without the liveness check is queued under its own reason:
# the clerk's list must not say the machine is unsure of a face it matched.
REVIEW_HELP_REASONS = frozenset(QUEUE_REASON.values()) | {"liveness_not_done"}
# Why a clerk rejects: (for the clerk's list, for the customer on the kiosk).
# Why a clerk rejects: (for the clerk's list, for the customer on the kiosk). A rejection ends
# the face tries at the kiosk (services.ekyc.reject_by_staff): the customer is told why and to
# see the clerk, never to try again alone; the clerk may allow one more try (allow_one_more).
SEE_THE_CLERK = "Hồ sơ không thể tiếp tục tại máy. Vui lòng gặp nhân viên tại quầy."
REJECT_REASONS = {
    "not_same_person": ("Không phải cùng một người",
                        "Nhân viên chưa xác nhận ảnh khuôn mặt khớp với ảnh trên giấy tờ."),
    "face_unclear": ("Ảnh khuôn mặt mờ hoặc bị che",
                     "Ảnh khuôn mặt chưa rõ (kính, khẩu trang hoặc thiếu sáng)."),
    "card_unclear": ("Ảnh giấy tờ mờ, lóa hoặc thiếu góc", "Ảnh giấy tờ chưa rõ."),
    "card_mismatch": ("Giấy tờ không khớp với thông tin đã khai",
                      "Thông tin trên giấy tờ chưa khớp với thông tin đã khai."),
    "other": ("Lý do khác (ghi chú)", "Nhân viên chưa xác nhận ảnh."),
}


DECISION_LABELS = {
    Decision.MATCH.value: "Khớp (tự động)",
    Decision.REVIEW.value: "Chưa chắc chắn — cần nhân viên xem",
    Decision.NO_MATCH.value: "Không khớp",
    Decision.NO_FACE.value: "Không thấy rõ khuôn mặt",
    Decision.STAFF_CONFIRMED.value: "Nhân viên xác nhận",
    Decision.STAFF_REJECTED.value: "Nhân viên không xác nhận",
}


class ReviewError(Exception):
    """A Vietnamese message for the clerk."""


def needs_clerk(reg: Registration) -> bool:
    return (not reg.finished and reg.status == "in_progress" and reg.furthest_step == STEP
            and ekyc.staff_needed(reg))


def queue_if_needed(reg: Registration) -> bool:
    """Put a registration the machine could not decide into the clerks' queue (once per
    decision); True when it is waiting for a clerk."""
    if not needs_clerk(reg):
        return False
    reason = QUEUE_REASON.get(reg.kyc_decision, "face_review")
    if reason == "face_review" and face_reason(ekyc.latest_face_match(reg)) == "liveness_not_done":
        reason = "liveness_not_done"
    if reg.help_requested_at is None or reg.help_reason != reason:
        registrations.request_help(reg, reason, actor="system")
    return True


def waiting(staff: StaffUser, office_filter: int | None = None) -> list[Registration]:
    """Registrations waiting for a clerk of ``staff``'s office, longest wait first (review
    cases and «Gọi nhân viên»)."""
    return list(db.session.scalars(
        office_scope.visible(select(Registration), staff, office_filter).where(Registration.help_requested_at.is_not(None),
                                   Registration.status == "in_progress")
        .order_by(Registration.help_requested_at)))


def _check_office(reg: Registration, clerk: StaffUser) -> None:
    # The console never shows another office's case (404); a clerk typing their password at
    # another office's kiosk is refused here, in words.
    if not office_scope.can_see(clerk, reg):
        raise ReviewError(OTHER_OFFICE)


def _claim(reg: Registration) -> None:
    """Take the case out of the queue atomically, so two clerks (or a clerk at the console and
    one at the kiosk) deciding at the same moment cannot both decide. The row stays locked
    until this transaction ends; a refused backend call rolls the claim back."""
    if reg.help_requested_at is None:
        return  # not queued (a clerk at the kiosk before the queue existed): nothing to race
    result = db.session.execute(
        update(Registration).where(Registration.id == reg.id,
                                   Registration.help_requested_at.is_not(None))
        .values(help_requested_at=None).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ReviewError("Một nhân viên khác vừa xử lý hồ sơ này.")


def approve(reg: Registration, clerk: StaffUser, where: str = "console",
            original_seen: bool = False) -> int:
    """The clerk confirms the face and the card belong to the customer: step 6 is complete.

    Returns the next step. Raises ReviewError when there is nothing to approve or the
    SmartCA backend refuses (nothing is recorded then).
    """
    _check_office(reg, clerk)
    if not needs_clerk(reg):
        raise ReviewError("Hồ sơ này không còn chờ nhân viên xác nhận.")
    _claim(reg)
    try:
        ekyc.accept(reg, Decision.STAFF_CONFIRMED, clerk.actor)
    except ProviderError as err:
        db.session.rollback()
        raise ReviewError(err.message) from None
    reg.kyc_decided_by = clerk.id
    audit.record("review_approved", reg, actor=clerk.actor, where=where)
    if original_seen:
        # The clerk had the original document in hand: the attestation goes with the decision.
        identity_record.attest(reg, clerk, "review")
    nxt = registrations.complete_step(reg, STEP)
    registrations.help_handled(reg, clerk.actor, "approved")
    return nxt


def reject(reg: Registration, clerk: StaffUser, reason: str, note: str = "",
           where: str = "console") -> None:
    """The clerk does not accept the photos: the face tries end (the kiosk says why and to see
    the clerk); :func:`allow_one_more` may open one more."""
    _check_office(reg, clerk)
    if reason not in REJECT_REASONS:
        raise ReviewError("Vui lòng chọn lý do không xác nhận.")
    # No hidden or bidi characters in a note the customer's screen may show.
    if problem := free_text.problem(note or ""):
        raise ReviewError(problem)
    note = " ".join((note or "").split())[:300]
    if reason == "other" and not note:
        raise ReviewError("Vui lòng ghi rõ lý do.")
    if not needs_clerk(reg):
        raise ReviewError("Hồ sơ này không còn chờ nhân viên xác nhận.")
    _claim(reg)
    audit.record("review_rejected", reg, actor=clerk.actor, reason=reason, note=note, where=where)
    ekyc.reject_by_staff(reg, clerk.actor)
    registrations.help_handled(reg, clerk.actor, "rejected")


def customer_message(reg: Registration) -> str | None:
    """What the kiosk tells the customer after a clerk's rejection (None otherwise)."""
    if reg.kyc_decision != Decision.STAFF_REJECTED.value:
        return None
    reason = audit.latest(reg, "review_rejected").get("reason")
    return f"{REJECT_REASONS.get(reason, REJECT_REASONS['not_same_person'])[1]} {SEE_THE_CLERK}"


def can_allow_one_more(reg: Registration) -> bool:
    return (not reg.finished and reg.status == "in_progress" and reg.furthest_step == STEP
            and ekyc.rejected_by_staff(reg))


def allow_one_more(reg: Registration, clerk: StaffUser, where: str = "console") -> None:
    """After a rejection the clerk lets the customer try ONE more time at the kiosk (audited
    as review_retry_allowed with the clerk's name)."""
    _check_office(reg, clerk)
    if not can_allow_one_more(reg):
        raise ReviewError("Hồ sơ này không ở trạng thái bị từ chối tại bước 6.")
    ekyc.allow_one_more(reg, clerk.actor)
    # a customer waiting at the kiosk («Gọi nhân viên») is sent back to the camera by the poll
    registrations.help_handled(reg, clerk.actor, "retry_allowed")


@dataclass(frozen=True)
class DistanceScale:
    """The face distance against both thresholds, as a small drawing for the clerk: accept
    ≤ accept, a clerk looks ≤ reject, no match above; positions in 0..1 of the drawn range."""
    accept: float
    reject: float
    distance: float | None
    top: float  # the range drawn: 0 … top
    zone: str  # "accept" | "review" | "no_match" | "none"

    def at(self, value: float) -> float:
        return max(0.0, min(1.0, value / self.top))


def distance_scale(distance: float | None) -> DistanceScale:
    th = ekyc.thresholds()
    top = max(th.reject * 1.6, (distance or 0) * 1.1, 0.1)
    zone = ("none" if distance is None else "accept" if distance <= th.accept
            else "review" if distance <= th.reject else "no_match")
    return DistanceScale(th.accept, th.reject, distance, top, zone)


@dataclass
class ReviewCase:
    reg: Registration
    face_match: dict
    liveness: dict
    card: dict  # what the card's QR said (from the latest face_match)


def case(reg: Registration) -> ReviewCase:
    face_match = ekyc.latest_face_match(reg)
    return ReviewCase(reg=reg, face_match=face_match,
                      liveness=audit.latest(reg, "liveness_checked"),
                      card=dict(face_match.get("card") or {}))
