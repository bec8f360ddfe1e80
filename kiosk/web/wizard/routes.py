"""Thin views: find the registration, ask flow.py what is allowed, hand over to the step, and
turn the step's outcome into a response (render.respond). Steps never import each other."""
from __future__ import annotations

from flask import Response, abort, current_app, render_template, request, url_for

from kiosk.domain import flow
from kiosk.domain.flow import Access
from kiosk.domain.kyc import HELP_REASONS, REQUIRED_CAPTURES
from kiosk.services import (
    card_preview,
    ekyc,
    evidence,
    paperwork,
    photo_findings,
    registrations,
    vision_pool,
)
from kiosk.services import signing as signatures
from kiosk.vision.images import ImageError
from kiosk.web.wizard import bp
from kiosk.web.wizard.render import redirect_to, respond, step_url
from kiosk.web.wizard.state import (
    LEFT_IDLE,
    LEFT_MESSAGES,
    bound_registration,
    release_session,
    resumable_here,
    session_registration,
    start_registration,
    welcome_url,
)
from kiosk.web.wizard.state import screen_status as state_status
from kiosk.web.wizard.steps import account, activation, package, personal, signing, verification

# step number -> (view(reg, readonly), submit(reg) -> response | GoTo)
STEPS = {
    1: (account.view, account.submit),
    2: (package.view, package.submit),
    3: (personal.view, personal.submit),
    4: (activation.view_provision, activation.submit_provision),
    5: (activation.view_activation, activation.submit_activation),
    6: (verification.view, verification.submit),
    7: (signing.view_contract, signing.submit_contract),
    8: (signing.view_pin, signing.submit_pin),
    9: (signing.view_acceptance, signing.submit_acceptance),
}


def _view_step(reg, number: int):
    return STEPS[number][0](reg, False)


@bp.get("/")
def welcome():
    left = request.args.get("left", "")
    reg = session_registration()
    if left == LEFT_IDLE and reg is not None:
        # idle.js went home: this page is the next customer's, whatever became of its POST
        # /idle (it gives up waiting after a while, and this request may carry the old cookie).
        registrations.left_idle(reg)
        release_session()
        reg = None
    if reg is not None and not resumable_here(reg):
        release_session()  # finished, or left long ago: the next customer starts clean
        reg = None
    return render_template("wizard/welcome.html", resume=reg, left_message=LEFT_MESSAGES.get(left))


@bp.get("/r/<token>/status")
def screen_status(token: str):
    """The step pages' status poll (every few seconds, ``_frame.html``): nothing to do → 204;
    the console cancelled the registration, or this screen no longer holds it → HX-Redirect to
    the welcome page, which says why. Never 404: a screen that lost its registration goes home
    instead of showing an error to the next tap."""
    status = state_status(token)
    if not status.home:
        return Response(status=204)
    response = Response(status=200)
    response.headers["HX-Redirect"] = welcome_url(status.left)
    return response


@bp.post("/r/<token>/alive")
def alive(token: str):
    """idle.js: someone is touching this screen (reading, scrolling) without sending requests."""
    bound_registration(token, allow_finished=True)
    return Response(status=204)


@bp.post("/start")
def start():
    reg = start_registration()
    return redirect_to(step_url(reg, flow.FIRST_STEP))


@bp.post("/idle")
def idle():
    """The idle timer ran out: forget the registration on this screen, keep it for staff."""
    reg = session_registration()
    if reg is not None:
        registrations.left_idle(reg)
    release_session()
    return Response(status=204)


@bp.route("/r/<token>/step/<int:number>", methods=["GET", "POST"])
def step_view(token: str, number: int):
    reg = bound_registration(token, allow_finished=True)
    access = flow.access(number, reg.furthest_step, reg.finished)
    if access is Access.FINISHED:
        if request.method == "POST":
            registrations.refuse(reg, "finished_reentry_refused", step=number)
        return redirect_to(url_for("wizard.done", token=token))
    if access is Access.NOT_REACHED:
        if request.method == "POST":
            registrations.refuse(reg, "step_order_refused", step=number,
                                 furthest=reg.furthest_step)
        return redirect_to(step_url(reg, reg.furthest_step))
    view, submit = STEPS[number]
    if request.method == "POST":
        if access is Access.READ_ONLY:
            registrations.refuse(reg, "readonly_change_refused", step=number)
            return redirect_to(step_url(reg, reg.furthest_step))
        return respond(reg, submit(reg), _view_step)
    registrations.show_step(reg, number)
    return view(reg, access is Access.READ_ONLY)


def _editable(token: str, number: int):
    reg = bound_registration(token)
    if flow.access(number, reg.furthest_step, reg.finished) is not Access.EDIT:
        abort(409)
    return reg


@bp.get("/r/<token>/step/3/current-address")
def current_address(token: str):
    """htmx: today's address proposed again once the card's text changed (step 3)."""
    return personal.current_address(_editable(token, 3))


@bp.get("/r/<token>/step/3/wards")
def ward_search(token: str):
    """htmx: today's wards/communes whose name holds what the customer typed (step 3)."""
    return personal.ward_search(_editable(token, 3))


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
    reg = bound_registration(token)
    if flow.access(5, reg.furthest_step, reg.finished) is not Access.EDIT:
        # The debounced check of the last keystroke may arrive after «Lưu mật khẩu» took the
        # customer on: nothing to update, and not an error to show.
        return Response(status=204)
    checklist = activation.checklist_for(reg, request.form.get("password", ""))
    return render_template("wizard/_password_checklist.html", checklist=checklist)


@bp.post("/r/<token>/step/6/capture/<kind>")
def capture(token: str, kind: str):
    if kind not in REQUIRED_CAPTURES:
        abort(404)
    return verification.capture(_editable(token, 6), kind)


@bp.get("/r/<token>/evidence/<int:evidence_id>")
def evidence_image(token: str, evidence_id: int):
    # The downscaled copy stored when the photo was taken: the screen shows it 240–420 px wide.
    # A photo stored before previews existed gets one now, through the vision pool (once).
    row = evidence.find(bound_registration(token), evidence_id, with_content=False)
    if row is None:
        abort(404)
    data, mime = photo_findings.preview(row)
    return Response(data, mimetype=mime)


@bp.get("/r/<token>/document/<kind>.pdf")
def document_pdf(token: str, kind: str):
    """The contract or acceptance record: signed copy if there is one, else the text to sign."""
    reg = bound_registration(token)
    pdf = signatures.document_bytes(reg, kind)
    if pdf is None:
        abort(404)
    return _pdf_response(pdf, f"{kind}-{reg.number}.pdf")


@bp.get("/r/<token>/done")
def done(token: str):
    reg = bound_registration(token, allow_finished=True)
    if not reg.finished:
        return redirect_to(step_url(reg, reg.furthest_step))
    # the printer the receipt went to: this kiosk's own when the console sets one
    printed = paperwork.last_print(reg)
    printer_mode, print_error = printed.mode, printed.error
    closed = printer_mode != "browser" and print_error is None
    receipt = None if closed else paperwork.receipt(reg)
    html = render_template(
        "wizard/done.html", reg=reg, data=reg.data, printer_mode=printer_mode,
        return_after=current_app.config["DONE_RETURN_SECONDS"], print_error=print_error,
        closed=closed,
        # the receipt on screen only while the registration stays open to this browser
        receipt_on_screen=receipt is not None,
    )
    if printer_mode != "browser" and print_error is None:
        # The receipt is out of the kiosk printer: this screen is the last the browser sees of
        # the registration (a reload or the back button opens nothing). With browser printing
        # the receipt PDF is still to be fetched: the done screen's timeout closes it.
        release_session()
    return html


@bp.get("/r/<token>/receipt.pdf")
def receipt_pdf(token: str):
    reg = bound_registration(token, allow_finished=True)
    doc = paperwork.receipt(reg)
    if doc is None:
        abort(404)
    return _pdf_response(doc.content, f"phieu-{reg.number}.pdf")


@bp.get("/r/<token>/receipt/print")
def receipt_print_page(token: str):
    """The page the done screen's hidden frame draws and prints (browser printing)."""
    reg = bound_registration(token, allow_finished=True)
    if paperwork.receipt(reg) is None:
        abort(404)
    return render_template("wizard/receipt_print.html", reg=reg)


@bp.post("/r/<token>/print-failed")
def print_failed(token: str):
    """print.js could not print the receipt: audited, the clerk called, the waiting panel
    answered into #help-area."""
    reg = bound_registration(token, allow_finished=True)
    if not reg.finished:
        abort(409)
    paperwork.browser_print_failed(reg, request.form.get("what", ""))
    return render_template("wizard/_waiting_for_clerk.html", reg=reg)


@bp.get("/r/<token>/reprint")
def screen_reprint(token: str):
    """The done screen's poll: a clerk's «In lại phiếu» for this kiosk (browser printing)
    arrives here and is printed by the frame it answers; nothing pending → 204."""
    reg = bound_registration(token, allow_finished=True)
    if not reg.finished or not paperwork.take_screen_reprint(reg):
        return Response(status=204)
    return render_template("wizard/_print_status.html", reg=reg, print_error=None,
                           printer_mode="browser", again=True, closed=False)


@bp.post("/r/<token>/print")
def print_again(token: str):
    reg = bound_registration(token, allow_finished=True)
    printed = paperwork.print_again(reg)
    if printed is None:
        abort(404)
    # the printer it went to (None when it failed: the screen then shows the error only)
    error, printer_mode = printed.error, printed.mode
    closed = printer_mode != "browser" and error is None
    if closed:
        release_session()  # printed at last: the registration closes to this browser (see done)
    return render_template("wizard/_print_status.html", reg=reg, print_error=error,
                           printer_mode=printer_mode, again=True, closed=closed)


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response




@bp.get("/qr/<store>.svg")
def store_qr(store: str):
    """QR code of the app-store link set in the office settings (search page by default)."""
    svg = paperwork.store_qr_svg(store)
    if svg is None:
        abort(404)
    return Response(svg, mimetype="image/svg+xml")


@bp.post("/r/<token>/step/6/liveness")
def liveness(token: str):
    return verification.liveness(_editable(token, 6))


@bp.route("/r/<token>/step/1/scan", methods=["GET", "POST"])
def scan_card(token: str):
    reg = _editable(token, 1)
    if request.method == "GET":
        return account.view_scan(reg)
    return account.scan(reg)


@bp.post("/r/<token>/guidance")
def guidance(token: str):
    """Live advice while the customer holds the card up: what to fix, and when it is good."""
    reg = bound_registration(token)
    if reg.finished:
        abort(409)
    upload = request.files.get("frame")
    try:
        return card_preview.advise(reg, upload.read(2_000_000) if upload else b"",
                                   request.form.get("track"),
                                   look_for_qr=request.args.get("qr") != "0")
    except ImageError as err:
        return {"ok": False, "issues": ["bad_frame"], "messages": [err.message]}
    except vision_pool.VisionBusy as busy:  # the next frame tries again
        return {"ok": False, "issues": ["busy"], "messages": [str(busy)]}
    except Exception:  # advice is best-effort: the customer can still press «Chụp ảnh»
        current_app.logger.exception("guidance failed")
        return {"ok": False, "issues": ["error"], "messages": []}


@bp.get("/r/<token>/step/6/retake/<kind>")
def retake(token: str, kind: str):
    if kind not in REQUIRED_CAPTURES:
        abort(404)
    return verification.view(_editable(token, 6), False, retake=kind)


@bp.post("/r/<token>/step/1/scan/consent")
def scan_consent(token: str):
    return account.give_consent(_editable(token, 1))


@bp.get("/r/<token>/evidence/<int:evidence_id>/portrait")
def evidence_portrait(token: str, evidence_id: int):
    """The portrait cut from a card-front photo, large, for the clerk's side-by-side check.

    The cut is made again here, and it can miss where the face check found the card (another
    search: a card without a portrait, a blurred frame): then the whole front is answered, so
    the clerk still has the card to compare with, never a broken picture on the kiosk."""
    row = evidence.find(bound_registration(token), evidence_id)
    if row is None or row.kind != "card_front":
        abort(404)
    portrait = ekyc.card_portrait(row)
    if portrait is None:
        return Response(row.content, mimetype=row.mime_type)
    return Response(portrait, mimetype="image/jpeg")


@bp.post("/r/<token>/help")
def request_help(token: str):
    """«Gọi nhân viên»: the registration joins the clerks' queue; the kiosk shows a waiting
    panel that polls until a clerk has handled it."""
    reg = bound_registration(token, allow_finished=True)
    reason = request.form.get("reason", "customer_asked")
    if reason not in HELP_REASONS:
        reason = "customer_asked"
    # After the last step only the printer can still go wrong (the receipt): a clerk may be
    # called about that, and nothing else.
    if reg.finished and reason != "printer_error":
        abort(409)
    registrations.request_help(reg, reason)
    return render_template("wizard/_waiting_for_clerk.html", reg=reg)


@bp.get("/r/<token>/help")
def help_status(token: str):
    """Small polling widget: still waiting → the same panel; handled → back to the current step."""
    reg = bound_registration(token, allow_finished=True)
    if reg.help_requested_at is None:
        return redirect_to(step_url(reg, reg.furthest_step if not reg.finished else flow.DONE))
    return render_template("wizard/_waiting_for_clerk.html", reg=reg)
