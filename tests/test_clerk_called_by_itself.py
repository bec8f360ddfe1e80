"""Every blocked state calls the clerk by itself, once, and the board shows the call at once:
a customer locked out of a step is never left alone in front of the kiosk."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Registration
from kiosk.services import registrations

from .kiosk_driver import jpeg_bytes
from .staff_console import Clerk


def _help_events(app, number):
    with app.app_context():
        reg = db.session.scalar(select(Registration).where(Registration.number == number))
        return [e for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.registration_id == reg.id,
                                     AuditEvent.event == "help_requested"))]


def test_a_locked_activation_code_calls_the_clerk_once_and_the_board_shows_it(app, kiosk):
    kiosk.walk_to(5)
    number = kiosk.registration().number
    clerk = Clerk(app)
    assert "Đang chờ nhân viên (0)" in clerk.html("/staff/board/live")
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        html = kiosk.activate("000000").get_data(as_text=True)
    # the screen says the clerk is coming, and pauses the idle timer while they are awaited
    assert "Máy đã tự gọi nhân viên" in html and "data-clerk-called" in html
    reg = kiosk.registration()
    assert reg.help_reason == "otp_locked" and reg.help_requested_at is not None
    board = clerk.html("/staff/board/live")
    assert "Đang chờ nhân viên (1)" in board and number in board
    # more tries, a reload: still one call
    kiosk.activate("000000")
    kiosk.get(kiosk.url(5))
    events = _help_events(app, number)
    assert len(events) == 1
    assert events[0].actor == "system" and events[0].details["reason"] == "otp_locked"


def test_a_handled_call_while_still_locked_is_made_again_on_the_next_try(app, kiosk):
    kiosk.walk_to(5)
    number = kiosk.registration().number
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        kiosk.activate("000000")
    with app.app_context():
        registrations.help_handled(registrations.by_token(kiosk.token), "staff:nv.hoa", "helped")
        db.session.commit()
    html = kiosk.activate("000000").get_data(as_text=True)
    assert "data-clerk-called" in html
    assert len(_help_events(app, number)) == 2


def test_request_help_is_idempotent_for_the_same_reason(app, kiosk):
    kiosk.start()
    with app.app_context():
        reg = registrations.by_token(kiosk.token)
        assert registrations.request_help(reg, "camera_unavailable") is True
        first = reg.help_requested_at
        assert registrations.request_help(reg, "camera_unavailable") is False
        assert registrations.request_help(reg, "customer_asked") is True  # a new reason counts
        assert reg.help_requested_at == first  # the wait is counted from the first call
        db.session.commit()
    assert len(_help_events(app, kiosk.registration().number)) == 2


def test_a_cancelled_registration_calls_nobody(app, kiosk):
    kiosk.start()
    with app.app_context():
        reg = registrations.by_token(kiosk.token)
        reg.status = "cancelled"
        assert registrations.call_clerk(reg, "otp_locked") is False
        assert reg.help_requested_at is None


@pytest.fixture
def scripted(fake_ekyc):
    return fake_ekyc.script(decision="match", liveness="failed")


def _record_liveness(kiosk):
    files = [(io.BytesIO(jpeg_bytes(seed=i)), f"f{i}.jpg") for i in range(3)]
    return kiosk.post(f"/r/{kiosk.token}/step/6/liveness", {"frames": files, "timestamps": "0,125,250"},
                      content_type="multipart/form-data").get_data(as_text=True)


def test_liveness_failed_twice_calls_the_clerk(app, kiosk, scripted):
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    kiosk.capture("card_back")
    first = _record_liveness(kiosk)
    assert kiosk.registration().help_requested_at is None and "data-clerk-called" not in first
    second = _record_liveness(kiosk)
    reg = kiosk.registration()
    assert reg.help_reason == "liveness_failed"
    assert "Máy đã tự gọi nhân viên" in second and "data-clerk-called" in second
    _record_liveness(kiosk)
    assert len(_help_events(app, reg.number)) == 1


def test_a_failed_receipt_print_calls_the_clerk(app, kiosk, jammed_printer):
    kiosk.walk_to(10)
    reg = kiosk.registration()
    assert reg.finished and reg.help_reason == "printer_error"
    html = kiosk.get(f"/r/{kiosk.token}/done").get_data(as_text=True)
    assert "Chưa in được phiếu" in html and "data-clerk-called" in html
    kiosk.post(f"/r/{kiosk.token}/print")
    calls = [e for e in _help_events(app, reg.number) if e.details["reason"] == "printer_error"]
    assert len(calls) == 1 and calls[0].actor == "system"
