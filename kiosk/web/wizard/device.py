"""Which kiosk this browser is: the device cookie, the enrollment screen, the state report.

Every wizard request first resolves the device cookie to its enrolled kiosk (``g.kiosk``, None
for an unknown, revoked or stopped kiosk). A browser that is no kiosk gets the enrollment screen
for everything (an htmx request: HX-Redirect), so it can neither start a registration, nor take
one over with a clerk's code, nor print. The cookie is the kiosk's credential: a long random
token, HttpOnly (no script reads it), SameSite=Strict, Secure over HTTPS, kept ~400 days (the
most a browser keeps a cookie); the server stores only its keyed digest
(services/kiosk_devices).
"""
from __future__ import annotations

from flask import Response, current_app, g, render_template, request, url_for

from kiosk.services import kiosk_devices, staff_auth
from kiosk.web.wizard import bp
from kiosk.web.wizard.render import redirect_to

COOKIE = "kiosk_device"
COOKIE_MAX_AGE = 400 * 24 * 3600
# What an unenrolled browser may still open: the enrollment screen itself, and nothing that
# holds a customer's data or makes anything happen.
OPEN_TO_ANY_BROWSER = {"wizard.enroll", "wizard.store_qr"}
WRONG_CODE = "Mã ghép máy không đúng hoặc đã hết hạn. Vui lòng xin nhân viên mã mới."


@bp.before_request
def _known_kiosk_only():
    g.kiosk = kiosk_devices.identify(request.cookies.get(COOKIE))
    if g.kiosk is None and request.endpoint not in OPEN_TO_ANY_BROWSER:
        return redirect_to(url_for("wizard.enroll"))
    return None


def _set_device_cookie(response: Response, token: str) -> None:
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                        samesite="Strict", secure=secure)


@bp.route("/kiosk/enroll", methods=["GET", "POST"])
def enroll():
    """«Máy này chưa được ghép với quầy»: the clerk types the one-time code from the console
    (``?code=`` fills it in: the link scripts/run.sh and the CLI print)."""
    error, code = None, request.values.get("code", "")[:20]
    if request.method == "POST":
        enrolled, error = staff_auth.redeem_throttled(
            f"enroll:{request.remote_addr}", lambda: kiosk_devices.redeem(code), WRONG_CODE)
        if enrolled is not None:
            _kiosk, token = enrolled
            response = redirect_to(url_for("wizard.welcome"))
            _set_device_cookie(response, token)
            return response
    elif g.kiosk is not None and not code:
        return redirect_to(url_for("wizard.welcome"))  # already a kiosk: nothing to do here
    return render_template("wizard/enroll.html", error=error, code=code, kiosk=g.kiosk)


@bp.post("/kiosk/state")
def report_state():
    """The kiosk page's report of itself every ~30 s (camera, screen, browser); 204 always."""
    kiosk_devices.report_state(g.kiosk, request.form)
    return Response(status=204)
