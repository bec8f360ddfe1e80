"""Thin views: find the registration, ask flow.py what is allowed, hand over to the step."""
from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from .. import audit, flow, paperwork
from ..extensions import db
from ..flow import Access
from ..kyc import REQUIRED_CAPTURES
from ..models import Evidence
from . import bp
from .render import step_url
from .state import (
    bound_registration,
    release_session,
    resumable,
    session_registration,
    start_registration,
)
from .steps import account, activation, card_scan, signing, verification

# step number -> (view(reg, readonly), submit(reg))
STEPS = {
    1: (account.view_account, account.submit_account),
    2: (account.view_package, account.submit_package),
    3: (account.view_personal, account.submit_personal),
    4: (activation.view_provision, activation.submit_provision),
    5: (activation.view_activation, activation.submit_activation),
    6: (verification.view_verification, verification.submit_verification),
    7: (signing.view_contract, signing.submit_contract),
    8: (signing.view_pin, signing.submit_pin),
    9: (signing.view_acceptance, signing.submit_acceptance),
}


def _redirect(url: str):
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


@bp.get("/")
def welcome():
    reg = session_registration()
    if reg is not None and not resumable(reg):
        release_session()  # finished, or left long ago: the next customer starts clean
        reg = None
    return render_template("wizard/welcome.html", resume=reg)


@bp.post("/start")
def start():
    reg = start_registration()
    return _redirect(step_url(reg, flow.FIRST_STEP))


@bp.post("/idle")
def idle():
    """The idle timer ran out: forget the registration on this screen, keep it for staff."""
    reg = session_registration()
    if reg is not None and not reg.finished:
        audit.record("idle_timeout", reg, actor="system", step=reg.current_step)
        db.session.commit()
    release_session()
    return Response(status=204)


@bp.route("/r/<token>/step/<int:number>", methods=["GET", "POST"])
def step_view(token: str, number: int):
    reg = bound_registration(token)
    access = flow.access(number, reg.furthest_step, reg.finished)
    if access is Access.FINISHED:
        if request.method == "POST":
            audit.record("finished_reentry_refused", reg, step=number)
            db.session.commit()
        return _redirect(url_for("wizard.done", token=token))
    if access is Access.NOT_REACHED:
        if request.method == "POST":
            audit.record("step_order_refused", reg, step=number, furthest=reg.furthest_step)
            db.session.commit()
        return _redirect(step_url(reg, reg.furthest_step))
    view, submit = STEPS[number]
    if request.method == "POST":
        if access is Access.READ_ONLY:
            audit.record("readonly_change_refused", reg, step=number)
            db.session.commit()
            return _redirect(step_url(reg, reg.furthest_step))
        return submit(reg)
    if reg.current_step != number:
        reg.current_step = number
        db.session.commit()
    return view(reg, access is Access.READ_ONLY)


def _editable(token: str, number: int):
    reg = bound_registration(token)
    if flow.access(number, reg.furthest_step, reg.finished) is not Access.EDIT:
        abort(409)
    return reg


@bp.post("/r/<token>/step/5/resend")
def resend_code(token: str):
    return activation.resend_code(_editable(token, 5))


@bp.get("/r/<token>/step/5/resend-button")
def resend_button(token: str):
    """Small polling widget: counts down until «Gửi lại mã» may be pressed."""
    reg = _editable(token, 5)
    return render_template("wizard/_resend_button.html", reg=reg, otp=activation.otp_state(reg))


@bp.post("/r/<token>/step/5/password-check")
def password_check(token: str):
    reg = _editable(token, 5)
    checklist = activation.checklist_for(reg, request.form.get("password", ""))
    return render_template("wizard/_password_checklist.html", checklist=checklist)


@bp.post("/r/<token>/step/6/capture/<kind>")
def capture(token: str, kind: str):
    if kind not in REQUIRED_CAPTURES:
        abort(404)
    return verification.capture(_editable(token, 6), kind)


@bp.get("/r/<token>/evidence/<int:evidence_id>")
def evidence_image(token: str, evidence_id: int):
    reg = bound_registration(token)
    row = db.session.get(Evidence, evidence_id)
    if row is None or row.registration_id != reg.id or row.kind not in REQUIRED_CAPTURES:
        abort(404)
    return Response(row.content, mimetype=row.mime_type)


@bp.get("/r/<token>/document/<kind>.pdf")
def document_pdf(token: str, kind: str):
    """The contract or acceptance record: signed copy if there is one, else the text to sign."""
    reg = bound_registration(token)
    if kind not in paperwork.RENDERERS or reg.furthest_step < signing.STEP_OF[kind]:
        abort(404)
    doc = paperwork.latest_document(reg, kind)
    pdf = doc.content if doc is not None else paperwork.render_signable(reg, kind)
    return _pdf_response(pdf, f"{kind}-{reg.number}.pdf")


@bp.get("/r/<token>/done")
def done(token: str):
    reg = bound_registration(token)
    if not reg.finished:
        return redirect(step_url(reg, reg.furthest_step), code=303)
    return render_template(
        "wizard/done.html", reg=reg, data=reg.data, printer_mode=current_app.config["PRINTER"],
        return_after=current_app.config["DONE_RETURN_SECONDS"],
        print_error=signing.last_print_error(reg),
    )


@bp.get("/r/<token>/receipt.pdf")
def receipt_pdf(token: str):
    reg = bound_registration(token)
    doc = paperwork.latest_document(reg, "receipt") if reg.finished else None
    if doc is None:
        abort(404)
    return _pdf_response(doc.content, f"phieu-{reg.number}.pdf")


@bp.post("/r/<token>/print")
def print_again(token: str):
    reg = bound_registration(token)
    doc = paperwork.latest_document(reg, "receipt") if reg.finished else None
    if doc is None:
        abort(404)
    error = signing.print_receipt(reg, doc.content)
    return render_template("wizard/_print_status.html", reg=reg, print_error=error,
                           printer_mode=current_app.config["PRINTER"], again=True)


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response




@bp.get("/qr/<store>.svg")
def store_qr(store: str):
    """QR code of the app-store link set in the office settings (search page by default)."""
    import io

    import segno

    from ..models import Office

    office = db.session.query(Office).first()
    urls = {"app-store": office.app_store_url, "ch-play": office.play_store_url} if office else {}
    if store not in urls:
        abort(404)
    buffer = io.BytesIO()
    segno.make(urls[store], error="m").save(buffer, kind="svg", scale=6, border=2)
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


@bp.post("/r/<token>/step/6/liveness")
def liveness(token: str):
    return verification.liveness(_editable(token, 6))


@bp.route("/r/<token>/step/1/scan", methods=["GET", "POST"])
def scan_card(token: str):
    reg = _editable(token, 1)
    if request.method == "GET":
        return card_scan.view_scan(reg)
    return card_scan.scan(reg)


@bp.post("/r/<token>/guidance")
def guidance(token: str):
    """Live advice while the customer holds the card up: what to fix, and when it is good."""
    reg = bound_registration(token)
    if reg.finished:
        abort(409)
    from ..vision.guidance import analyse_frame
    from ..vision.images import ImageError, decode_image

    upload = request.files.get("frame")
    try:
        frame, _ = decode_image(upload.read(2_000_000) if upload else b"",
                                current_app.config["MAX_IMAGE_PIXELS"])
    except ImageError as err:
        return {"ok": False, "issues": ["bad_frame"], "messages": [err.message]}
    try:
        result = analyse_frame(frame)
    except Exception:  # advice is best-effort: the customer can still press «Chụp ảnh»
        current_app.logger.exception("guidance failed")
        return {"ok": False, "issues": ["error"], "messages": []}
    return {"ok": bool(result.ok), "issues": list(result.issues), "messages": list(result.messages)}


@bp.get("/r/<token>/step/6/retake/<kind>")
def retake(token: str, kind: str):
    if kind not in REQUIRED_CAPTURES:
        abort(404)
    return verification.view_verification(_editable(token, 6), False, retake=kind)


@bp.post("/r/<token>/step/1/scan/consent")
def scan_consent(token: str):
    return card_scan.give_consent(_editable(token, 1))


@bp.get("/r/<token>/evidence/<int:evidence_id>/portrait")
def evidence_portrait(token: str, evidence_id: int):
    """The portrait cut from a card-front photo, large, for the clerk's side-by-side check."""
    import cv2

    from ..vision.card import portrait_from_frame
    from ..vision.images import ImageError, decode_image

    reg = bound_registration(token)
    row = db.session.get(Evidence, evidence_id)
    if row is None or row.registration_id != reg.id or row.kind != "card_front":
        abort(404)
    try:
        image, _ = decode_image(row.content, current_app.config["MAX_IMAGE_PIXELS"])
        portrait = portrait_from_frame(image)
    except ImageError:
        portrait = None
    if portrait is None:
        abort(404)
    ok, buf = cv2.imencode(".jpg", portrait, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        abort(404)
    return Response(buf.tobytes(), mimetype="image/jpeg")
