"""One registration: detail, pictures (decrypted only when asked), documents, audit trail, and
the clerk's actions (resume on a kiosk, cancel, reprint, unlock the activation code)."""
from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user

from kiosk.core.models import Evidence, Registration
from kiosk.domain.kyc import CAPTURE_LABELS, HELP_REASONS, REVIEW_REASONS
from kiosk.services import (
    board,
    chip_reading,
    counter_actions,
    ekyc,
    evidence,
    photo_findings,
    rows,
)
from kiosk.services import registration_detail as detail_service
from kiosk.web.staff import bp

DOCUMENT_LABELS = {"contract": "Hợp đồng điện tử", "acceptance": "Biên bản nghiệm thu",
                   "receipt": "Phiếu đăng ký",
                   "contract_text": "Hợp đồng điện tử — bản khách đang đọc, chưa ký",
                   "acceptance_text": "Biên bản nghiệm thu — bản khách đang đọc, chưa ký"}


def registration_or_404(number: str) -> Registration:
    reg = board.find_by_number(number, current_user)
    if reg is None:
        abort(404)
    return reg


def detail_context(reg: Registration, **extra) -> dict:
    facts = detail_service.detail(reg)
    return dict(
        reg=reg, row=board.row(reg), data=reg.data, events=facts.events,
        documents=facts.documents, document_labels=DOCUMENT_LABELS, face_match=facts.face_match,
        liveness=facts.liveness,
        review_reasons=[REVIEW_REASONS.get(c, c) for c in facts.face_match.get("problems", [])],
        help_reasons=HELP_REASONS, cancel_reasons=counter_actions.CANCEL_REASONS,
        otp_locked=facts.otp_locked, in_review=facts.in_review, thresholds=facts.thresholds,
        names=board.staff_names(), **extra)


@bp.get("/r/<number>")
def detail(number: str):
    reg = registration_or_404(number)
    detail_service.opened(reg, current_user)
    return render_template("staff/detail.html", **detail_context(reg))


@bp.get("/r/<number>/photos")
def photos(number: str):
    """The pictures, listed only now that the clerk asked (audited); each is decrypted when
    its image is fetched."""
    reg = registration_or_404(number)
    return render_template("staff/_photos.html", reg=reg,
                           rows=detail_service.photos(reg, current_user), labels=CAPTURE_LABELS)


def _evidence(reg: Registration, evidence_id: int, with_content: bool = True) -> Evidence:
    if evidence_id > rows.LARGEST_ID:  # no row has it (and the driver would raise on it)
        abort(404)
    row = evidence.find(reg, evidence_id, with_content=with_content)
    if row is None:
        abort(404)
    return row


@bp.get("/r/<number>/evidence/<int:evidence_id>")
def evidence_image(number: str, evidence_id: int):
    # the downscaled copy stored when the photo was taken (the clerk's screen needs no more)
    data, mime = photo_findings.preview(
        _evidence(registration_or_404(number), evidence_id, with_content=False))
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/r/<number>/chip/portrait")
def chip_portrait(number: str):
    """The portrait read from the card's chip (signed by the issuer), when the face was or can
    be compared against it."""
    reference = chip_reading.reference_for(registration_or_404(number))
    if reference is None:
        abort(404)
    response = Response(reference.portrait, mimetype=reference.mime)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/r/<number>/evidence/<int:evidence_id>/portrait")
def evidence_portrait(number: str, evidence_id: int):
    """The portrait cut from a card-front photo, upright, for the clerk's side-by-side check;
    the whole front when no portrait is found there (as the kiosk's own route): the clerk
    always has the card to compare with, never a broken picture. 404 for another kind."""
    row = _evidence(registration_or_404(number), evidence_id)
    if row is None or row.kind != "card_front":
        abort(404)
    portrait = ekyc.card_portrait(row)
    response = (Response(row.content, mimetype=row.mime_type) if portrait is None
                else Response(portrait, mimetype="image/jpeg"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/r/<number>/document/<int:document_id>")
def document(number: str, document_id: int):
    reg = registration_or_404(number)
    doc = detail_service.open_document(reg, current_user, document_id)
    if doc is None:
        abort(404)
    disposition = "attachment" if request.args.get("download") else "inline"
    response = Response(doc.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{doc.kind}-{reg.number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _act(number: str, action, done: str | None = None):
    """Run ``action(reg)`` and re-render the actions panel with its outcome in place.
    ``action`` returns extra context for the panel (or None); ActionError is shown as an error."""
    reg = registration_or_404(number)
    try:
        extra = action(reg) or {}
    except counter_actions.ActionError as err:
        extra = {"action_error": str(err)}
    else:
        if done and "action_error" not in extra:
            extra["action_done"] = done
    return render_template("staff/_actions.html", **detail_context(reg, **extra))


@bp.post("/r/<number>/resume")
def resume(number: str):
    return _act(number, lambda reg: {"resume_code": counter_actions.new_resume_code(reg, current_user)})


@bp.post("/r/<number>/cancel")
def cancel(number: str):
    form = request.form
    return _act(number, lambda reg: counter_actions.cancel(
        reg, current_user, form.get("reason", ""), form.get("note", "")), "Đã hủy hồ sơ.")


def _reprint(reg: Registration):
    outcome = counter_actions.reprint_receipt(reg, current_user)
    return {"action_error" if outcome.failed else "action_done": outcome.message}


@bp.post("/r/<number>/reprint")
def reprint(number: str):
    # the outcome says where the receipt went (a kiosk's screen, a CUPS queue, a folder)
    return _act(number, _reprint)


@bp.post("/r/<number>/unlock-otp")
def unlock_otp(number: str):
    return _act(number, lambda reg: counter_actions.unlock_otp(reg, current_user),
                "Đã gửi mã kích hoạt mới tới điện thoại của khách.")


@bp.post("/r/<number>/help-done")
def help_done(number: str):
    return _act(number, lambda reg: counter_actions.help_done(reg, current_user),
                "Đã ghi nhận: máy của khách quay lại bước đang làm.")
