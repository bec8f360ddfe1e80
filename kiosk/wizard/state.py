"""Finding the registration a request is about, and binding it to this kiosk browser."""
from __future__ import annotations

import secrets
import string
from datetime import timedelta

from flask import abort, current_app, session
from sqlalchemy import select

from .. import audit, flow, providers
from ..extensions import db
from ..models import Registration, utcnow

SESSION_KEY = "reg_token"
_NUMBER_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")


def new_registration_number() -> str:
    # Date for the clerk, random part so numbers reveal nothing about volume.
    today = (utcnow() + timedelta(hours=7)).strftime("%y%m%d")
    return f"TH{today}-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))


def start_registration() -> Registration:
    for _ in range(5):
        number = new_registration_number()
        if db.session.scalar(select(Registration.id).where(Registration.number == number)) is None:
            break
    reg = Registration(
        number=number,
        kiosk_id=current_app.config["KIOSK_ID"],
        sandbox=providers.is_sandbox(),
    )
    db.session.add(reg)
    db.session.flush()
    audit.record("registration_started", reg, kiosk=reg.kiosk_id)
    db.session.commit()
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
    reg = db.session.scalar(select(Registration).where(Registration.token == token))
    if reg is None:
        abort(404)
    return reg


def session_registration() -> Registration | None:
    token = session.get(SESSION_KEY)
    if not token:
        return None
    return db.session.scalar(select(Registration).where(Registration.token == token))


def resumable(reg: Registration) -> bool:
    """Offer "continue" on the welcome screen only right after a crash or reload.

    Past the idle timeout the customer has gone (or the kiosk was off): the next person at
    the counter must not be offered someone else's registration; staff can resume it.
    """
    limit = current_app.config["IDLE_TIMEOUT_SECONDS"] + 60
    return not reg.finished and (utcnow() - reg.updated_at).total_seconds() <= limit


def release_session() -> None:
    session.pop(SESSION_KEY, None)


def complete_step(reg: Registration, number: int) -> int:
    """Accept step `number`; the customer goes on to the next step in order (after going
    back to fix step 1, that is step 2 again, not the furthest step reached)."""
    reg.furthest_step = flow.advance(number, reg.furthest_step)
    reg.current_step = number + 1
    audit.record("step_completed", reg, step=number)
    return reg.current_step
