"""Registrations: start one, find one, accept a step, record consent, forget a screen's hold.

Every function here only changes rows in the caller's session: the request (or the CLI
command) commits once after it returns (services/unit_of_work.py)."""
from __future__ import annotations

import secrets
import string
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import bindparam, select

from kiosk import providers
from kiosk.core import audit, metrics
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Registration, utcnow
from kiosk.domain import flow

# Bumped whenever the consent notice changes (2026-11-L91: Luật 91/2025/QH15, retention).
CONSENT_VERSION = "2026-11-L91"
_NUMBER_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")


def new_registration_number() -> str:
    # Date for the clerk, random part so numbers reveal nothing about volume.
    today = (utcnow() + timedelta(hours=7)).strftime("%y%m%d")
    return f"TH{today}-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))


def start(kiosk: Kiosk) -> Registration:
    """A new registration at this enrolled kiosk: it carries the kiosk's code (its printer, the
    board's grouping) and office (whose board shows it)."""
    for _ in range(5):
        number = new_registration_number()
        if db.session.scalar(select(Registration.id).where(Registration.number == number)) is None:
            break
    reg = Registration(number=number, kiosk_id=kiosk.code, office_id=kiosk.office_id,
                       sandbox=providers.is_sandbox())
    db.session.add(reg)
    db.session.flush()
    audit.record("registration_started", reg, kiosk=reg.kiosk_id)
    return reg


# Every kiosk request starts with this query: built once, so SQLAlchemy neither builds the
# statement nor computes its cache key again (~0.1 ms a request).
_BY_TOKEN = select(Registration).where(Registration.token == bindparam("token"))


def by_token(token: str) -> Registration | None:
    reg = db.session.scalar(_BY_TOKEN, {"token": token})
    if reg is not None:
        # The screen's footer shows this registration's office when the kiosk itself is not
        # known (settings.office); the first one looked up in a request is the one shown.
        g.setdefault("registration", reg)
    return reg


def resumable(reg: Registration) -> bool:
    """Offer "continue" on the welcome screen only right after a crash or reload.

    Past the idle timeout the customer has gone (or the kiosk was off): the next person at
    the counter must not be offered someone else's registration; staff can resume it.
    """
    limit = current_app.config["IDLE_TIMEOUT_SECONDS"] + 60
    return reg.status == "in_progress" and (utcnow() - reg.updated_at).total_seconds() <= limit


def complete_step(reg: Registration, number: int) -> int:
    """Accept step `number`; the customer goes on to the next step in order (after going
    back to fix step 1, that is step 2 again, not the furthest step reached)."""
    before = reg.furthest_step
    reg.furthest_step = flow.advance(number, reg.furthest_step)
    if reg.furthest_step > before:  # counted once per registration and step, not on a redo
        metrics.step_reached(reg.office_id, reg.furthest_step)
    reg.current_step = number + 1
    audit.record("step_completed", reg, step=number)
    return reg.current_step


def show_step(reg: Registration, number: int) -> None:
    """The customer is looking at step ``number`` (kept so a resume comes back to it)."""
    if reg.current_step != number:
        reg.current_step = number


def record_consent(reg: Registration) -> None:
    if reg.consent_at is None:
        reg.consent_at = utcnow()
        reg.consent_version = CONSENT_VERSION
        audit.record("consent_given", reg, version=CONSENT_VERSION)


def refuse(reg: Registration, event: str, **details) -> None:
    """Record a refused request (step order, read-only change …) for the audit trail."""
    audit.record(event, reg, **details)


def left_idle(reg: Registration) -> None:
    """The screen's idle timer ran out: the row stays in progress for staff."""
    if not reg.finished:
        audit.record("idle_timeout", reg, actor="system", step=reg.current_step)


def request_help(reg: Registration, reason: str, actor: str = "customer") -> bool:
    """Put the registration in the clerks' queue (kiosk «Gọi nhân viên», an unsure machine, or
    a blocked state calling the clerk by itself: code locked, liveness failed, no camera, the
    printer). True when this call changed the queue.

    ``reason`` is a key of domain.kyc.HELP_REASONS. Idempotent: a call already open for the
    same reason is left as it is (a blocked screen reloaded, a double tap, a poll) so the audit
    log holds one call per blocked state. Asking again for another reason keeps the first time
    (the queue is ordered by waiting time) but records the newest reason.
    """
    from kiosk.domain.kyc import HELP_REASONS

    if reason not in HELP_REASONS:
        raise ValueError(f"unknown help reason {reason!r}")
    if reg.help_requested_at is not None and reg.help_reason == reason:
        return False
    if reg.help_requested_at is None:
        reg.help_requested_at = utcnow()
    reg.help_reason = reason
    audit.record("help_requested", reg, actor=actor, reason=reason, step=reg.current_step)
    return True


def call_clerk(reg: Registration, reason: str) -> bool:
    """A blocked state calls the clerk by itself (nobody pressed a button): :func:`request_help`
    on behalf of the machine. A finished or cancelled registration calls nobody, except about
    the printer (the receipt is printed after the last step)."""
    if reg.status != "in_progress" and not (reg.finished and reason == "printer_error"):
        return False
    return request_help(reg, reason, actor="system")


def help_handled(reg: Registration, actor: str, outcome: str) -> None:
    """A clerk has dealt with the request: the registration leaves the queue."""
    if reg.help_requested_at is not None:
        metrics.queue_waited(reg.office_id, (utcnow() - reg.help_requested_at).total_seconds())
        reg.help_requested_at = None
        reg.help_reason = None
        audit.record("help_handled", reg, actor=actor, outcome=outcome)
