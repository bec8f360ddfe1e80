"""The review queue: what the machine hesitated about, side by side, and the clerk's verdict.
The waiting kiosk polls and moves on by itself after approve or reject."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from kiosk.domain.kyc import CAPTURE_LABELS, HELP_REASONS, REVIEW_REASONS, review_reason_codes
from kiosk.services import board, chip_reading, ekyc, evidence, photo_findings, review
from kiosk.web.filters import date_filter
from kiosk.web.staff import bp
from kiosk.web.staff.auth import passive
from kiosk.web.staff.registrations import registration_or_404
from kiosk.web.staff.render import partial_or_page
from kiosk.web.staff.scope import office_filter

CARD_FIELDS = (("id_number", "Số giấy tờ"), ("full_name", "Họ và tên"),
               ("date_of_birth", "Ngày sinh"), ("gender", "Giới tính"), ("address", "Nơi thường trú"),
               ("issue_date", "Ngày cấp"))


@bp.get("/queue")
@passive
def queue():
    rows = [board.row(reg) for reg in review.waiting(current_user, office_filter())]
    return partial_or_page("staff/queue.html", "staff/_queue.html", rows=rows)


def _shown(key: str, value) -> str:
    """Dates as the clerk reads them (dd/mm/yyyy); the comparison uses the ISO values."""
    if not value:
        return ""
    if key in ("date_of_birth", "issue_date"):
        try:
            return date_filter(str(value))
        except ValueError:
            return str(value)
    return str(value)


def _case(number: str, **extra):
    reg = registration_or_404(number)
    captures = evidence.latest_captures(reg)
    case = review.case(reg)
    # what the card said when it was photographed: no photo is decoded here
    card = photo_findings.card_reading(captures)
    declared = reg.data
    codes = review_reason_codes(case.face_match)
    reasons = [REVIEW_REASONS.get(c, c) for c in codes]
    compare = [(label, _shown(key, declared.get(key)), _shown(key, card.get(key)),
                bool(card.get(key)) and str(card.get(key)) != str(declared.get(key) or ""))
               for key, label in CARD_FIELDS]
    return render_template(
        "staff/review.html", reg=reg, case=case, captures=captures, labels=CAPTURE_LABELS,
        compare=compare, card=card, open_case=review.needs_clerk(reg),
        chip=chip_reading.latest_check(reg),
        reasons=reasons, reason_codes=codes,
        # the true reason first (the face, from the recorded decision), not the queue's label
        help_label=reasons[0] if reasons else HELP_REASONS.get(reg.help_reason or ""),
        thresholds=ekyc.thresholds(), scale=review.distance_scale(reg.face_distance),
        reject_reasons=review.REJECT_REASONS, can_retry=review.can_allow_one_more(reg), **extra)


DONE = {"approved": "Đã xác nhận. Máy của khách chuyển sang bước tiếp theo.",
        "rejected": "Đã từ chối. Máy của khách báo không tiếp tục được tại máy và mời khách "
                    "gặp nhân viên.",
        "retry": "Đã cho khách thử lại một lượt. Máy của khách mở lại camera khuôn mặt."}


@bp.get("/review/<number>")
def review_case(number: str):
    return _case(number, done=DONE.get(request.args.get("done", "")))


@bp.post("/review/<number>/approve")
def approve(number: str):
    reg = registration_or_404(number)
    try:
        review.approve(reg, current_user,
                       original_seen=request.form.get("original_seen") == "y")
    except review.ReviewError as err:
        return _case(number, error=str(err))
    # Post/redirect/get: a reload of the result page does not post the verdict again.
    return redirect(url_for("staff.review_case", number=number, done="approved"), code=303)


@bp.post("/review/<number>/reject")
def reject(number: str):
    reg = registration_or_404(number)
    try:
        review.reject(reg, current_user, request.form.get("reason", ""), request.form.get("note", ""))
    except review.ReviewError as err:
        return _case(number, error=str(err))
    return redirect(url_for("staff.review_case", number=number, done="rejected"), code=303)


@bp.post("/review/<number>/allow-retry")
def allow_retry(number: str):
    """«Cho khách thử lại một lượt»: after a rejection, one more face try at the kiosk."""
    reg = registration_or_404(number)
    try:
        review.allow_one_more(reg, current_user)
    except review.ReviewError as err:
        return _case(number, error=str(err))
    return redirect(url_for("staff.review_case", number=number, done="retry"), code=303)
