"""Which registration a request is about, bound to this kiosk browser's session.

The next customer at the counter must see nothing of the previous one. So a
registration URL opens only when, on THIS screen:

- the session cookie holds its token (a photographed screen or a leaked URL opens nothing);
- the screen was in use recently: this browser's last request for it (or the last change to
  the row) is within the idle timeout plus a grace period. idle.js pings ``/alive`` while
  someone touches the screen without sending requests (reading the contract), so an active
  customer is never cut off, and a «Tiếp tục hồ sơ này» link left on the welcome screen, or the
  back button, after the customer has gone opens nothing;
- a finished registration stays open only for its done screen: until the done screen times
  out (DONE_RETURN_SECONDS), and no longer once the receipt has come out of the kiosk printer.
  Its photos and contracts are never served again to the browser.

The kiosk cookie is a browser-session cookie (never ``permanent``): it dies with the browser.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import abort, current_app, g, session

from kiosk.core.models import Registration, utcnow
from kiosk.services import registrations

SESSION_KEY = "reg_token"
SEEN_KEY = "reg_seen"  # unix time of this browser's last request for its registration
GRACE_SECONDS = 60  # network hiccups, a slow idle POST: more than the warning countdown
DONE_GRACE_SECONDS = 30


def start_registration() -> Registration:
    # g.kiosk: the enrolled kiosk of this browser (device.py refuses every other browser).
    reg = registrations.start(g.kiosk)
    bind_registration(reg)
    return reg


def bind_registration(reg: Registration) -> None:
    """This kiosk browser now holds ``reg`` (a new one, or one a clerk handed over)."""
    session.permanent = False
    session[SESSION_KEY] = reg.token
    session[SEEN_KEY] = int(time.time())


def _idle_for(reg: Registration) -> float:
    seen = session.get(SEEN_KEY)
    last = reg.updated_at.timestamp()
    if isinstance(seen, int | float):
        last = max(last, float(seen))
    return time.time() - last


def still_on_screen(reg: Registration) -> bool:
    """Is the customer who started ``reg`` still the one at this screen?"""
    if reg.finished:
        if reg.finished_at is None:
            return False
        open_for = current_app.config["DONE_RETURN_SECONDS"] + DONE_GRACE_SECONDS
        return (utcnow() - reg.finished_at).total_seconds() <= open_for
    return _idle_for(reg) <= current_app.config["IDLE_TIMEOUT_SECONDS"] + GRACE_SECONDS


def bound_registration(token: str, allow_finished: bool = False) -> Registration:
    """The registration of this URL, only for the kiosk browser that started it, and only while
    it is still this screen's (see the module docstring). ``allow_finished``: the done screen,
    its receipt and the step URLs that lead there; everything else is closed once finished."""
    bound = session.get(SESSION_KEY, "")
    if not (token.isascii() and bound.isascii() and secrets.compare_digest(bound, token)):
        abort(404)
    reg = registrations.by_token(token)
    if reg is None:
        abort(404)
    if reg.status == "cancelled":  # a clerk cancelled it in the console: back to the welcome
        from kiosk.web.wizard.render import redirect_to

        release_session()
        abort(redirect_to(welcome_url(LEFT_CANCELLED)))
    if not still_on_screen(reg):
        registrations.refuse(reg, "stale_screen_refused", actor="system",
                             finished=reg.finished)
        release_session()
        abort(404)
    if reg.finished and not allow_finished:
        abort(404)
    session[SEEN_KEY] = int(time.time())
    return reg


# Why the screen went back to the welcome page (``/?left=…``), what the welcome page says.
LEFT_CANCELLED = "cancelled"
LEFT_IDLE = "idle"
LEFT_MESSAGES = {LEFT_CANCELLED: "Hồ sơ đã được nhân viên hủy."}


def welcome_url(left: str | None = None) -> str:
    from flask import url_for

    return url_for("wizard.welcome", left=left) if left else url_for("wizard.welcome")


@dataclass(frozen=True)
class ScreenStatus:
    """What the kiosk's status poll learns: ``home`` None = stay; else go to the welcome page,
    ``left`` saying why."""

    home: bool
    left: str | None = None


def screen_status(token: str) -> ScreenStatus:
    """The status poll of a step page (``GET /r/<token>/status``), answered without touching
    the screen's last-seen time: a poll is not a customer, so it must not keep a registration
    open on a screen nobody uses. The console's actions reach the kiosk here: a cancelled
    registration, one handed to another kiosk (this session no longer holds it), or one this
    screen has lost (idle) sends the screen home."""
    bound = session.get(SESSION_KEY, "")
    if not (token.isascii() and bound.isascii() and secrets.compare_digest(bound, token)):
        return ScreenStatus(True)
    reg = registrations.by_token(token)
    if reg is None:
        release_session()
        return ScreenStatus(True)
    if reg.status == "cancelled":
        release_session()
        return ScreenStatus(True, LEFT_CANCELLED)
    if not still_on_screen(reg):
        release_session()
        return ScreenStatus(True)
    return ScreenStatus(False)


def session_registration() -> Registration | None:
    token = session.get(SESSION_KEY)
    return registrations.by_token(token) if token else None


def resumable_here(reg: Registration) -> bool:
    """Offer «Tiếp tục» on the welcome screen: unfinished and still this screen's."""
    return registrations.resumable(reg) and still_on_screen(reg)


def release_session() -> None:
    session.pop(SESSION_KEY, None)
    session.pop(SEEN_KEY, None)
