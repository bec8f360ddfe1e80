"""Sign-in, sign-out, own password; the guard every console request passes.

Flask-Login keeps ``"<id>:<session_nonce>"`` in the (signed) session cookie; the loader only
accepts it while the account is active and its nonce unchanged, so logout, a password change,
a reset or disabling the account end every session of that clerk on the server side. The
guard adds an idle timeout (STAFF_IDLE_TIMEOUT_SECONDS) and an absolute lifetime
(STAFF_SESSION_MAX_SECONDS): polling by the open board does not count as activity.
"""
from __future__ import annotations

import functools
import logging
import time

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from kiosk.core.models import StaffUser
from kiosk.domain import free_text
from kiosk.services import staff_accounts, staff_auth
from kiosk.services.staff_auth import check
from kiosk.web.staff import bp

login_manager = LoginManager()
login_manager.session_protection = "basic"
PUBLIC_ENDPOINTS = {"staff.login"}
AUTH_AT, SEEN_AT = "staff_auth_at", "staff_seen_at"


log = logging.getLogger(__name__)


@bp.record_once
def _setup(state):
    login_manager.init_app(state.app)
    state.app.extensions["kiosk_proxy_warned"] = False


@bp.before_app_request
def _warn_forwarded_without_trusted_proxy():
    """Sign-in failures are counted per client address. Behind nginx with TRUSTED_PROXIES unset
    every clerk and kiosk is 127.0.0.1: five wrong passwords anywhere lock everyone out. The
    app cannot tell a proxy from a forger, so it says so in the log, once per process."""
    app = current_app._get_current_object()
    if (app.extensions.get("kiosk_proxy_warned") is False
            and request.headers.get("X-Forwarded-For")
            and not int(app.config.get("TRUSTED_PROXIES") or 0)):
        app.extensions["kiosk_proxy_warned"] = True
        log.warning("X-Forwarded-For received while TRUSTED_PROXIES = 0: every client behind the "
                    "proxy shares the proxy's address, so one source's sign-in lock hits them "
                    "all. Set TRUSTED_PROXIES to the number of proxies in front "
                    "(docs/deploy.md).")


@login_manager.user_loader
def _load_user(user_id: str):
    return staff_auth.session_user(user_id)


def current_staff() -> StaffUser | None:
    return current_user if current_user.is_authenticated else None


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True
    return wrapped


def passive(view):
    """A polling endpoint: answering it does not keep the session alive."""
    view.passive = True
    return view


def _to_login(expired: bool = False):
    url = url_for("staff.login", expired=1 if expired else None)
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def _forget_session() -> None:
    logout_user()
    session.pop(AUTH_AT, None)
    session.pop(SEEN_AT, None)


def session_fresh(now: float | None = None) -> bool:
    """The signed-in clerk's session is within its idle timeout and its absolute lifetime."""
    cfg, now = current_app.config, time.time() if now is None else now
    auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
    return (isinstance(auth_at, (int, float)) and isinstance(seen_at, (int, float))
            and now - auth_at <= cfg["STAFF_SESSION_MAX_SECONDS"]
            and now - seen_at <= cfg["STAFF_IDLE_TIMEOUT_SECONDS"])


def signed_in_admin() -> bool:
    """A signed-in administrator whose session has not expired (read-only: /metrics neither
    extends nor ends the session)."""
    return bool(current_user.is_authenticated and current_user.is_admin and session_fresh())


@bp.before_request
def _guard():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return _to_login()
    now = time.time()
    if not session_fresh(now):
        staff_auth.session_expired(current_user)  # committed by the request with the redirect
        _forget_session()
        return _to_login(expired=True)
    view = current_app.view_functions.get(request.endpoint)
    # An htmx poll of a passive view is the open board refreshing itself, not the clerk.
    if not (getattr(view, "passive", False) and request.headers.get("HX-Request")):
        session[SEEN_AT] = now
    return None


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập")
    password = PasswordField("Mật khẩu")

    def validate(self, extra_validators=None) -> bool:
        # No control or bidi character in a username (it goes into the audit trail as typed).
        message = free_text.problem(self.username.data if isinstance(self.username.data, str) else "")
        if message:
            super().validate(extra_validators)
            self.username.errors = [message]
            return False
        return super().validate(extra_validators)


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại")
    password = PasswordField("Mật khẩu mới")
    confirm = PasswordField("Nhập lại mật khẩu mới")


def _sign_in(user: StaffUser) -> None:
    session.clear()  # nothing from before the sign-in is carried over
    login_user(user)
    now = time.time()
    session[AUTH_AT] = now
    session[SEEN_AT] = now


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user, error = check(form.username.data or "", form.password.data or "",
                            source=f"console:{request.remote_addr}")
        if user is not None:
            _sign_in(user)
            staff_accounts.signed_in(user)
            return redirect(url_for("staff.index"))
        staff_auth.refused(form.username.data or "", "console")
    elif request.method == "POST":
        error = (form.username.errors[0] if form.username.errors
                 else "Phiên đăng nhập đã hết hạn. Vui lòng thử lại.")
    notice = "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại." if request.args.get("expired") else None
    return render_template("staff/login.html", form=form, error=error, notice=notice)


@bp.post("/logout")
def logout():
    staff_accounts.signed_out(current_user)
    _forget_session()
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    error = None
    if form.validate_on_submit():
        try:
            staff_accounts.change_own_password(current_user, form.current.data or "",
                                               form.password.data or "", form.confirm.data or "")
        except staff_accounts.AccountError as err:
            error = str(err)
        else:
            # Every other session of this clerk is over; this one goes on with the new nonce.
            _sign_in(staff_auth.staff_user(current_user.id))
            return render_template("staff/password.html", form=PasswordChangeForm(formdata=None),
                                   done=True)
    return render_template("staff/password.html", form=form, error=error)


@bp.context_processor
def _console_globals():
    from kiosk.services import sandbox
    from kiosk.services.review import DECISION_LABELS

    return {"sms_sandbox": sandbox.sms_is_sandbox(), "decision_labels": DECISION_LABELS}
