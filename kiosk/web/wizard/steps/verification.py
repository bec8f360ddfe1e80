"""Step 6 «Xác thực giấy tờ, khuôn mặt»: photograph the card (front, back) and the face.

The machine decides where it is sure (a MATCH after a passed liveness challenge, see
services.ekyc); a clerk beside the customer decides where it is not (REVIEW, NO_FACE, or
NO_MATCH after FACE_MAX_ATTEMPTS tries), or when the face photo was taken without the challenge.
"""
from __future__ import annotations

import itertools
import math

from flask import current_app, request

from kiosk.core.models import Registration
from kiosk.domain.kyc import (
    CAPTURE_LABELS,
    REQUIRED_CAPTURES,
    REVIEW_REASONS,
    missing_captures,
)
from kiosk.services import (
    card_preview,
    chip_check,
    chip_reading,
    ekyc,
    evidence,
    registrations,
    review,
)
from kiosk.services.staff_auth import audit_name, check
from kiosk.vision.engine import LIVENESS_MAX_FRAMES
from kiosk.vision.images import ImageError, bytes_from_data_url
from kiosk.web.wizard.forms import CaptureForm, StaffConfirmForm
from kiosk.web.wizard.render import GoTo, render_step

# After this many failed liveness recordings in a row the screen offers «Gọi nhân viên» (the
# customer may still try again): an elderly customer must not loop on the challenge alone.
LIVENESS_TRIES_BEFORE_CLERK = 2
MAX_FRAME_BYTES = 2_000_000


def view(reg: Registration, readonly: bool, staff_form=None, capture_error=None,
         error_kind=None, notice=None, retake: str | None = None, captures=None,
         card_state: str | None = None):
    """``captures``: the latest photos by kind when the caller has them (just stored);
    ``card_state``: the state machine's answer to the card photo just sent (the page's
    automatic shutter obeys it, see kiosk.domain.step6)."""
    captures = evidence.latest_captures(reg) if captures is None else captures
    rejected = not readonly and ekyc.rejected_by_staff(reg)
    if rejected:
        retake = None  # no photo is taken after a clerk's rejection
    challenge = [] if readonly or rejected else ekyc.challenge_prompts(reg)
    # An unsure machine puts the registration in the clerks' queue by itself; the frame then
    # shows the waiting panel, which moves on once a clerk decides in the console.
    if not readonly:
        review.queue_if_needed(reg)
    needed = ekyc.staff_needed(reg)
    if notice is None and not readonly:
        notice = review.customer_message(reg)
    last = ekyc.latest_face_match(reg)
    return render_step(
        reg, 6, readonly=readonly, captures=captures, labels=CAPTURE_LABELS,
        missing=missing_captures(set(captures)), capture_form=CaptureForm(formdata=None),
        staff_form=staff_form or StaffConfirmForm(formdata=None),
        capture_error=capture_error, error_kind=error_kind, notice=notice,
        staff_needed=needed, challenge=challenge,
        max_attempts=current_app.config["FACE_MAX_ATTEMPTS"],
        retake=retake if retake in REQUIRED_CAPTURES else None,
        review_reasons=[REVIEW_REASONS[c] for c in last.get("problems", []) if c in REVIEW_REASONS],
        portrait_on_card=last.get("reference") == "card_portrait",
        chip_check=chip_reading.latest_check(reg) if needed else None,
        # The reader, where offered: until a verified chip portrait is the reference.
        chip_used=(chip_reading.reference_for(reg) is not None
                   if not readonly and not rejected and chip_check.offered(reg) else None),
        face_check=last, liveness_failures=ekyc.liveness_failures(reg),
        # the camera's frames of one side need no QR search once the other side's photo gave it
        qr_known={kind: card_preview.card_qr_known(captures, kind)
                  for kind in ("card_front", "card_back")},
        liveness_tries=LIVENESS_TRIES_BEFORE_CLERK, card_state=card_state,
        rejected=rejected,
    )


def capture(reg: Registration, kind: str):
    """Store one photo (camera frame or uploaded scan) as encrypted evidence."""
    form = CaptureForm()
    if not form.validate():
        return view(reg, False, capture_error="Phiên làm việc đã hết hạn.", error_kind=kind)
    if ekyc.rejected_by_staff(reg):
        # a clerk's rejection ends the tries: nothing is stored or decided (audited refusal)
        registrations.refuse(reg, "capture_refused", kind=kind, reason="kyc_rejected")
        return view(reg, False)
    upload = request.files.get("image_file")
    source = "upload" if upload and upload.filename else "camera"
    try:
        if source == "upload":
            data = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        else:
            data = bytes_from_data_url(form.image_data.data or "")
        if kind in ("card_front", "card_back"):
            # step 6's state machine: either side first, each side stored once per attempt
            retake = request.form.get("retake") == kind
            outcome, problems, latest = ekyc.add_card_photo(reg, kind, data, source, retake,
                                                            request.form.get("track"))
        else:
            latest = ekyc.add_capture(reg, kind, data, source)
            outcome, problems = None, []
    except ImageError as err:
        registrations.refuse(reg, "capture_refused", kind=kind, reason=err.message)
        return view(reg, False, capture_error=err.message, error_kind=kind, retake=kind)
    if outcome is not None and not outcome.store:
        # nothing stored: the same side asked for again, the page holding its shutter until
        # the card in front of the camera changes (static/js/guidance.js)
        return view(reg, False, captures=latest, capture_error=outcome.message,
                    error_kind=outcome.state, card_state=outcome.state,
                    retake=kind if request.form.get("retake") == kind else None)
    notes = [outcome.message] if outcome is not None and outcome.message else []
    notes += problems
    return view(reg, False, notice=" ".join(notes) or None, captures=latest,
                card_state=outcome.state if outcome is not None else None)


def _timestamps(raw: str) -> list[float]:
    """Milliseconds since the start, finite and in order (seconds out)."""
    stamps = [float(v) / 1000.0 for v in raw.split(",") if v.strip()]
    if any(not math.isfinite(t) or t < 0 for t in stamps):
        raise ValueError("timestamps must be finite and non-negative")
    if any(b < a for a, b in itertools.pairwise(stamps)):
        raise ValueError("timestamps must not go backwards")
    return stamps


def liveness(reg: Registration):
    """A recorded liveness challenge: frames + timestamps from the camera, judged by the engine."""
    form = CaptureForm()
    if not form.validate():
        return view(reg, False, capture_error="Phiên làm việc đã hết hạn.", error_kind="face")
    if ekyc.rejected_by_staff(reg):
        registrations.refuse(reg, "capture_refused", kind="face", reason="kyc_rejected")
        return view(reg, False)
    files = request.files.getlist("frames")
    try:
        stamps = _timestamps(request.form.get("timestamps", ""))
        if not files or len(files) != len(stamps) or len(files) > LIVENESS_MAX_FRAMES:
            raise ValueError("frames and timestamps do not match")
        blobs = [f.read(MAX_FRAME_BYTES) for f in files]
        verdict = ekyc.record_liveness(reg, stamps, blobs)
    except (ValueError, ImageError):  # raised before anything is written
        return view(reg, False, error_kind="face",
                    capture_error="Không nhận được hình từ camera. Vui lòng thử lại.")
    if verdict.state != "passed" or verdict.face_jpeg is None:
        if ekyc.liveness_failures(reg) >= LIVENESS_TRIES_BEFORE_CLERK:
            # blocked: the clerk is called by itself (once; the customer may still try again)
            registrations.call_clerk(reg, "liveness_failed")
        return view(reg, False, error_kind="face",
                    capture_error=verdict.message or "Chưa kiểm tra được. Vui lòng thử lại.")
    return view(reg, False)


def submit(reg: Registration):
    """Continue after an automatic match, or a clerk confirms/rejects with staff credentials."""
    form = StaffConfirmForm()
    if missing_captures(set(evidence.latest_captures(reg))):
        return view(reg, False, staff_form=form,
                    notice="Cần chụp đủ mặt trước, mặt sau giấy tờ và khuôn mặt.")
    if not form.validate():
        return view(reg, False, staff_form=form)
    if form.verdict.data == "auto":
        nxt, message = ekyc.continue_after_match(reg)
        return GoTo(nxt) if message is None else view(reg, False, notice=message)
    if not ekyc.staff_needed(reg):
        return view(reg, False, staff_form=form, notice=(
            "Vui lòng chụp lại khuôn mặt theo hướng dẫn trước; nhân viên xác nhận khi máy chưa chắc chắn."))
    # A clerk standing at the kiosk: the same per-source throttling as the console, keyed to
    # this kiosk's form, so a customer typing wrong passwords here locks this form, not a clerk.
    username = (form.staff_username.data or "").strip()
    user, message = check(username, form.staff_password.data or "",
                          source=f"kiosk:{reg.kiosk_id}:{request.remote_addr}")
    if user is None:
        registrations.refuse(reg, "staff_confirmation_refused", actor="system",
                             username=audit_name(username))
        form.staff_password.errors = [message]
        return view(reg, False, staff_form=form)
    try:
        if form.verdict.data == "reject":
            review.reject(reg, user, "not_same_person", where="kiosk")
            return view(reg, False)
        return GoTo(review.approve(reg, user, where="kiosk"))
    except review.ReviewError as err:
        return view(reg, False, notice=str(err))
