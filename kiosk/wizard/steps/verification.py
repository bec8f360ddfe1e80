"""Step 6: photograph the card (front, back) and the face; match the face to the card portrait.

The machine decides where it is sure (kyc.Decision MATCH after a passed liveness challenge);
a clerk beside the customer decides with their staff credentials where it is not (REVIEW,
NO_FACE, or NO_MATCH after FACE_MAX_ATTEMPTS tries), or when the face photo was taken
without the liveness challenge.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import random

import cv2
from flask import current_app, request
from sqlalchemy import select

from ... import audit, ekyc, providers
from ...extensions import db
from ...kyc import CAPTURE_LABELS, REQUIRED_CAPTURES, Decision, missing_captures
from ...models import Evidence, Registration, utcnow
from ...providers import ProviderError
from ...staff.auth import audit_name, authenticate
from ...vision.images import ImageError, bytes_from_data_url, decode_image
from ...vision.liveness import PROMPTS, new_challenge, run_sequence
from ..forms import CaptureForm, StaffConfirmForm
from ..render import go_to, render_step
from ..state import complete_step

MAX_LIVENESS_FRAMES = 240  # 20 s at 12 fps; more is not a camera recording of the challenge


def latest_captures(reg: Registration) -> dict[str, Evidence]:
    rows = db.session.scalars(
        select(Evidence).where(Evidence.registration_id == reg.id,
                               Evidence.kind.in_(REQUIRED_CAPTURES))
        .order_by(Evidence.id)
    )
    return {row.kind: row for row in rows}  # later rows (retakes) win


def staff_needed(reg: Registration) -> bool:
    decision = reg.kyc_decision
    if decision in (Decision.REVIEW, Decision.NO_FACE):
        return True
    return decision == Decision.NO_MATCH and reg.face_attempts >= current_app.config["FACE_MAX_ATTEMPTS"]


def _ensure_challenge(reg: Registration) -> list[str]:
    if not reg.liveness_challenge:
        reg.liveness_challenge = new_challenge(random.SystemRandom())
        db.session.commit()
    return reg.liveness_challenge


def view_verification(reg: Registration, readonly: bool, staff_form=None, capture_error=None,
                      error_kind=None, notice=None, retake: str | None = None):
    captures = latest_captures(reg)
    challenge = [] if readonly else _ensure_challenge(reg)
    needed = staff_needed(reg)
    last = latest_face_match(reg) if needed else {}
    return render_step(
        reg, 6, readonly=readonly, captures=captures, labels=CAPTURE_LABELS,
        missing=missing_captures(set(captures)), capture_form=CaptureForm(formdata=None),
        staff_form=staff_form or StaffConfirmForm(formdata=None),
        capture_error=capture_error, error_kind=error_kind, notice=notice,
        staff_needed=needed, challenge=[(a, PROMPTS[a]) for a in challenge],
        max_attempts=current_app.config["FACE_MAX_ATTEMPTS"],
        retake=retake if retake in REQUIRED_CAPTURES else None,
        review_reasons=review_reasons(last) if needed else [],
        portrait_on_card=last.get("reference") == "card_portrait",
    )


def _store(reg: Registration, kind: str, data: bytes, mime: str, source: str) -> Evidence:
    evidence = Evidence(registration_id=reg.id, kind=kind, mime_type=mime, content=data,
                        sha256=hashlib.sha256(data).hexdigest(), source=source)
    db.session.add(evidence)
    db.session.flush()
    audit.record("evidence_captured", reg, kind=kind, source=source, sha256=evidence.sha256)
    return evidence


def _decide_automatically(reg: Registration, live: bool) -> None:
    """Compare the face with the card portrait; record decision, distance and thresholds.

    The machine accepts alone only when the face matches the card portrait, the liveness
    challenge passed, and the card's QR says the declared ID number and birth date.
    """
    captures = latest_captures(reg)
    if "card_front" not in captures or "face" not in captures:
        return
    try:
        result = ekyc.compare_faces(captures["card_front"].content, captures["face"].content)
    except Exception as exc:  # vision must never take the kiosk down: the clerk decides
        current_app.logger.exception("face comparison failed for %s", reg.number)
        result = {"decision": Decision.NO_FACE.value, "distance": None, "reference": None,
                  "card": {}, "error": type(exc).__name__}
    problems = ekyc.identity_problems(result, reg.data)
    if not live:
        problems.append("no_liveness")
    decision = result["decision"]
    if decision == Decision.MATCH and problems:
        decision = Decision.REVIEW.value  # the face matches, but a clerk must look
    reg.face_attempts += 1
    reg.kyc_decision = decision
    reg.face_distance = result["distance"]
    th = ekyc.thresholds()
    audit.record("face_match", reg, actor="system", decision=decision,
                 raw_decision=result["decision"], distance=result["distance"],
                 accept_threshold=th.accept, reject_threshold=th.reject,
                 reference=result.get("reference"), liveness=live, attempt=reg.face_attempts,
                 problems=problems)


def latest_face_match(reg: Registration) -> dict:
    """Details of the latest automatic decision (problems, reference, distance …), or {}."""
    from ...models import AuditEvent

    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.registration_id == reg.id,
                                 AuditEvent.event == "face_match")
        .order_by(AuditEvent.id.desc()).limit(1))
    return dict(event.details or {}) if event else {}


def review_reasons(details: dict) -> list[str]:
    """The problems of an automatic decision, in words for the clerk."""
    return [REVIEW_REASONS[c] for c in details.get("problems", []) if c in REVIEW_REASONS]


REVIEW_REASONS = {
    "no_card_in_photo": "Không tìm thấy thẻ trong ảnh mặt trước: đã so với cả ảnh.",
    "card_qr_unread": "Chưa đọc được mã QR trên thẻ (hoặc giấy tờ không có mã QR).",
    "card_number_differs": "Số trên mã QR của thẻ KHÁC số giấy tờ đã khai.",
    "card_birth_date_differs": "Ngày sinh trên mã QR của thẻ KHÁC ngày sinh đã khai.",
    "no_liveness": "Ảnh khuôn mặt chụp thường, chưa kiểm tra cử động.",
}


def capture(reg: Registration, kind: str):
    """Store one photo (camera frame or uploaded scan) as encrypted evidence."""
    form = CaptureForm()
    if not form.validate():
        return view_verification(reg, False, capture_error="Phiên làm việc đã hết hạn.", error_kind=kind)
    upload = request.files.get("image_file")
    source = "upload" if upload and upload.filename else "camera"
    try:
        if source == "upload":
            data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        else:
            data = bytes_from_data_url(form.image_data.data or "")
        _, mime = decode_image(data, current_app.config["MAX_IMAGE_PIXELS"])
    except ImageError as err:
        audit.record("capture_refused", reg, kind=kind, reason=err.message)
        db.session.commit()
        return view_verification(reg, False, capture_error=err.message, error_kind=kind, retake=kind)
    _store(reg, kind, data, mime, source)
    if kind == "face":
        reg.liveness_passed_at = None  # this photo was not taken during the challenge
    if kind in ("face", "card_front"):
        reg.kyc_decision = None
        _decide_automatically(reg, live=reg.liveness_passed_at is not None)
    db.session.commit()
    return view_verification(reg, False)


def _timestamps(raw: str) -> list[float]:
    """Milliseconds since the start, finite and in order (seconds out)."""
    stamps = [float(v) / 1000.0 for v in raw.split(",") if v.strip()]
    if any(not math.isfinite(t) or t < 0 for t in stamps):
        raise ValueError("timestamps must be finite and non-negative")
    if any(b < a for a, b in itertools.pairwise(stamps)):
        raise ValueError("timestamps must not go backwards")
    return stamps


def liveness(reg: Registration):
    """A recorded liveness challenge: frames + timestamps from the camera, judged here."""
    form = CaptureForm()
    if not form.validate():
        return view_verification(reg, False, capture_error="Phiên làm việc đã hết hạn.", error_kind="face")
    files = request.files.getlist("frames")
    try:
        stamps = _timestamps(request.form.get("timestamps", ""))
        if not files or len(files) != len(stamps) or len(files) > MAX_LIVENESS_FRAMES:
            raise ValueError("frames and timestamps do not match")
        raw = [f.read(2_000_000) for f in files]
        frames = [(t, decode_image(b, current_app.config["MAX_IMAGE_PIXELS"])[0])
                  for t, b in zip(stamps, raw, strict=True)]
    except (ValueError, ImageError):
        return view_verification(reg, False, error_kind="face",
                                 capture_error="Không nhận được hình từ camera. Vui lòng thử lại.")
    challenge = _ensure_challenge(reg)
    mirrored = current_app.config["LIVENESS_MIRRORED"]
    status, best = run_sequence(frames, challenge, mirrored=mirrored)
    audit.record("liveness_checked", reg, actor="system", state=status.state, reason=status.reason,
                 challenge=challenge, frames=len(frames), still=status.still)
    reg.liveness_challenge = None  # a new random order for any next try
    if status.state != "passed" or best is None:
        db.session.commit()
        return view_verification(reg, False, error_kind="face",
                                 capture_error=status.message or "Chưa kiểm tra được. Vui lòng thử lại.")
    ok, buf = cv2.imencode(".jpg", frames[best][1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    data = raw[best] if not ok else buf.tobytes()
    _store(reg, "face", data, "image/jpeg", "liveness")
    reg.liveness_passed_at = utcnow()
    _decide_automatically(reg, live=True)
    db.session.commit()
    return view_verification(reg, False)


def submit_verification(reg: Registration):
    """Continue after an automatic match, or a clerk confirms/rejects with staff credentials."""
    form = StaffConfirmForm()
    captures = latest_captures(reg)
    if missing_captures(set(captures)):
        return view_verification(reg, False, staff_form=form,
                                 notice="Cần chụp đủ mặt trước, mặt sau giấy tờ và khuôn mặt.")
    if not form.validate():
        return view_verification(reg, False, staff_form=form)
    evidence = {kind: row.sha256 for kind, row in captures.items()}
    if form.verdict.data == "auto":
        if reg.kyc_decision != Decision.MATCH or reg.liveness_passed_at is None:
            return view_verification(reg, False, notice="Chưa xác thực tự động được. Vui lòng làm theo hướng dẫn.")
        return _accept(reg, Decision.MATCH, "system", evidence)
    if not staff_needed(reg):
        return view_verification(reg, False, staff_form=form, notice=(
            "Vui lòng chụp lại khuôn mặt theo hướng dẫn trước; nhân viên xác nhận khi máy chưa chắc chắn."))
    username = (form.staff_username.data or "").strip()
    user = authenticate(username, form.staff_password.data or "")
    if user is None:
        audit.record("staff_confirmation_refused", reg, actor="system", username=audit_name(username))
        db.session.commit()
        form.staff_password.errors = [
            "Tên đăng nhập hoặc mật khẩu nhân viên không đúng, hoặc tài khoản đang bị khóa."]
        return view_verification(reg, False, staff_form=form)
    actor = f"staff:{user.username}"
    if form.verdict.data == "reject":
        reg.kyc_decision = Decision.STAFF_REJECTED.value
        reg.face_attempts = 0
        audit.record("kyc_rejected", reg, actor=actor, evidence=evidence,
                     distance=reg.face_distance)
        db.session.commit()
        return view_verification(reg, False, notice=(
            "Nhân viên chưa xác nhận ảnh khớp với giấy tờ. Vui lòng chụp lại theo hướng dẫn."))
    reg.kyc_decided_by = user.id
    return _accept(reg, Decision.STAFF_CONFIRMED, actor, evidence)


def _accept(reg: Registration, decision: Decision, actor: str, evidence: dict):
    try:
        providers.registration_backend().submit_kyc(reg.subscriber_ref, decision.value, evidence)
    except ProviderError as err:
        return view_verification(reg, False, notice=err.message)
    automatic = reg.kyc_decision
    reg.kyc_decision = decision.value
    reg.kyc_decided_at = utcnow()
    th = ekyc.thresholds()
    audit.record("kyc_confirmed", reg, actor=actor, decision=decision.value,
                 automatic_decision=automatic, distance=reg.face_distance,
                 accept_threshold=th.accept, reject_threshold=th.reject, evidence=evidence)
    nxt = complete_step(reg, 6)
    db.session.commit()
    from .signing import view_contract

    return go_to(reg, nxt, lambda: view_contract(reg, False))
