"""Which registration a request is about, bound to this kiosk browser's session."""
from __future__ import annotations

import secrets

from flask import abort, current_app, session

from kiosk.core.models import Registration
from kiosk.services import registrations

SESSION_KEY = "reg_token"


def start_registration() -> Registration:
    reg = registrations.start(current_app.config["KIOSK_ID"])
    session.permanent = True
    session[SESSION_KEY] = reg.token
    return reg


def bound_registration(token: str) -> Registration:
    """The registration of this URL, only for the kiosk browser that started it.

    The token in the URL alone is not enough: a photographed screen or a leaked
    URL must not open someone's personal data on another device.
    """
    bound = session.get(SESSION_KEY, "")
    if not (token.isascii() and bound.isascii() and secrets.compare_digest(bound, token)):
        abort(404)
    reg = registrations.by_token(token)
    if reg is None:
        abort(404)
    if reg.status == "cancelled":  # a clerk cancelled it in the console: back to the welcome
        from flask import url_for

        from kiosk.web.wizard.render import redirect_to

        release_session()
        abort(redirect_to(url_for("wizard.welcome")))
    return reg


def session_registration() -> Registration | None:
    token = session.get(SESSION_KEY)
    return registrations.by_token(token) if token else None


def release_session() -> None:
    session.pop(SESSION_KEY, None)
