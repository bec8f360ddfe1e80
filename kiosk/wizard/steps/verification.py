"""Step 6: photograph the card (front, back) and the face; a clerk confirms the match.

The decision is a kyc.Decision so that automatic face matching can take the clerk's place
where the machine is sure, without changing this flow.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request
from sqlalchemy import select

from ... import audit, providers
from ...extensions import db
from ...kyc import CAPTURE_LABELS, REQUIRED_CAPTURES, Decision, missing_captures
from ...models import Evidence, Registration, utcnow
from ...providers import ProviderError
from ...staff.auth import authenticate
from ...vision.images import ImageError, bytes_from_data_url, decode_image
from ..forms import CaptureForm, StaffConfirmForm
from ..render import go_to, render_step
from ..state import complete_step


def latest_captures(reg: Registration) -> dict[str, Evidence]:
    rows = db.session.scalars(
        select(Evidence).where(Evidence.registration_id == reg.id,
                               Evidence.kind.in_(REQUIRED_CAPTURES))
        .order_by(Evidence.id)
    )
    return {row.kind: row for row in rows}  # later rows (retakes) win


def view_verification(reg: Registration, readonly: bool, staff_form=None, capture_error=None,
                      error_kind=None, notice=None):
    captures = latest_captures(reg)
    return render_step(
        reg, 6, readonly=readonly, captures=captures, labels=CAPTURE_LABELS,
        missing=missing_captures(set(captures)), capture_form=CaptureForm(formdata=None),
        staff_form=staff_form or StaffConfirmForm(formdata=None),
        capture_error=capture_error, error_kind=error_kind, notice=notice,
    )


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
        return view_verification(reg, False, capture_error=err.message, error_kind=kind)
    evidence = Evidence(registration_id=reg.id, kind=kind, mime_type=mime, content=data,
                        sha256=hashlib.sha256(data).hexdigest(), source=source)
    db.session.add(evidence)
    # A new photo invalidates an earlier decision about the old ones.
    reg.kyc_decision = None
    audit.record("evidence_captured", reg, kind=kind, source=source, sha256=evidence.sha256)
    db.session.commit()
    return view_verification(reg, False)


def submit_verification(reg: Registration):
    """The clerk beside the customer confirms (or rejects) with their staff credentials."""
    form = StaffConfirmForm()
    captures = latest_captures(reg)
    if missing_captures(set(captures)):
        return view_verification(reg, False, staff_form=form,
                                 notice="Cần chụp đủ mặt trước, mặt sau giấy tờ và khuôn mặt.")
    if not form.validate():
        return view_verification(reg, False, staff_form=form)
    username = (form.staff_username.data or "").strip()
    user = authenticate(username, form.staff_password.data or "")
    if user is None:
        audit.record("staff_confirmation_refused", reg, actor="system", username=username)
        db.session.commit()
        form.staff_password.errors = [
            "Tên đăng nhập hoặc mật khẩu nhân viên không đúng, hoặc tài khoản đang bị khóa."]
        return view_verification(reg, False, staff_form=form)
    actor = f"staff:{user.username}"
    evidence = {kind: row.sha256 for kind, row in captures.items()}
    if form.verdict.data == "reject":
        reg.kyc_decision = Decision.STAFF_REJECTED.value
        audit.record("kyc_rejected", reg, actor=actor, evidence=evidence)
        db.session.commit()
        return view_verification(reg, False, notice=(
            "Nhân viên chưa xác nhận ảnh khớp với giấy tờ. Vui lòng chụp lại theo hướng dẫn."))
    try:
        providers.registration_backend().submit_kyc(
            reg.subscriber_ref, Decision.STAFF_CONFIRMED.value, evidence)
    except ProviderError as err:
        return view_verification(reg, False, notice=err.message)
    reg.kyc_decision = Decision.STAFF_CONFIRMED.value
    reg.kyc_decided_by = user.id
    reg.kyc_decided_at = utcnow()
    audit.record("kyc_confirmed", reg, actor=actor, decision=reg.kyc_decision, evidence=evidence)
    nxt = complete_step(reg, 6)
    db.session.commit()
    from .signing import view_contract

    return go_to(reg, nxt, lambda: view_contract(reg, False))
