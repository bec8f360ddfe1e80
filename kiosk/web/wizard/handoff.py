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
        source = f"handoff:{request.remote_addr}"
        # The try is counted before the code is looked at (staff_auth.reserve_try): parallel
        # guesses cannot get more than the limit checked between them.
        may_check, locked_now = staff_auth.reserve_try(source)
        if not may_check:
            error = staff_auth.LOCKED_MESSAGE
        else:
            reg = counter_actions.redeem_resume_code(request.form.get("code", ""), g.kiosk)
            if reg is not None:
                staff_auth.clear(source)
                bind_registration(reg)
                return redirect(url_for("wizard.step_view", token=reg.token,
                                        number=reg.furthest_step), code=303)
            error = (staff_auth.LOCKED_MESSAGE if locked_now else
                     "Mã không đúng hoặc đã hết hạn. Vui lòng hỏi nhân viên mã mới.")
    return render_template("wizard/handoff.html", error=error)
