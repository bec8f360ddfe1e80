from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, SmsMessage
from kiosk.services.staff_auth import audit_name, authenticate
from kiosk.web.staff import bp
from kiosk.web.staff.auth import SESSION_KEY, current_staff, staff_required


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập")
    password = PasswordField("Mật khẩu")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session on sign-in (no fixation)
            session[SESSION_KEY] = user.id
            audit.record("staff_login", actor=f"staff:{user.username}")
            db.session.commit()
            return redirect(url_for("staff.index"))
        audit.record("staff_login_refused", actor="system", username=audit_name(form.username.data or ""))
        db.session.commit()
        error = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang bị khóa."
    return render_template("staff/login.html", form=form, error=error)


@bp.post("/logout")
@staff_required
def logout():
    session.pop(SESSION_KEY, None)
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required
def index():
    rows = db.session.scalars(select(Registration).order_by(Registration.id.desc()).limit(50))
    return render_template("staff/index.html", registrations=list(rows), staff=current_staff())


@bp.get("/outbox")
@staff_required
def outbox():
    """The sandbox SMS gateway's outbox: what would have been sent to customers' phones."""
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50))
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render_template("staff/_outbox.html" if partial else "staff/outbox.html",
                           messages=list(messages), staff=current_staff())
