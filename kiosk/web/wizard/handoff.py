"""The kiosk end of «Tiếp tục trên quầy»: a clerk issues a one-time code in the console and
types it on the kiosk that should continue the registration. Public (the kiosk has no staff
session), so the code is single-use, expires, and wrong codes are throttled per source."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from kiosk.services import counter_actions, staff_auth
from kiosk.web.wizard import bp
from kiosk.web.wizard.state import bind_registration


@bp.route("/handoff", methods=["GET", "POST"])
def handoff():
    error = None
    if request.method == "POST":
        reg, error = staff_auth.redeem_throttled(
            f"handoff:{request.remote_addr}",
            lambda: counter_actions.redeem_resume_code(request.form.get("code", ""), g.kiosk),
            "Mã không đúng hoặc đã hết hạn. Vui lòng hỏi nhân viên mã mới.")
        if reg is not None:
            bind_registration(reg)
            return redirect(url_for("wizard.step_view", token=reg.token,
                                    number=reg.furthest_step), code=303)
    return render_template("wizard/handoff.html", error=error)
