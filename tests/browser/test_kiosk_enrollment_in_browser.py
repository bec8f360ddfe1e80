"""A new kiosk PC in Chromium: the enrollment screen, the one-time code typed, the welcome
screen; the device cookie out of reach of scripts; the page reports its camera and screen."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk
from kiosk.services import kiosk_devices

pytestmark = pytest.mark.browser


def _stored_state(app) -> dict | None:
    with app.app_context():
        return db.session.scalar(select(Kiosk.device_state).where(Kiosk.code == "quay-01"))


def test_a_new_kiosk_pc_is_enrolled_with_the_code_and_reports_itself(live_app, browser_page):
    page = browser_page
    page.context.clear_cookies()  # a PC that was never enrolled
    with live_app.app_context():
        code = kiosk_devices.new_enrollment_code(kiosk_devices.by_code("quay-01"), actor="test")
        db.session.commit()
    page.goto(live_app.config["LIVE_URL"] + "/")
    expect(page.locator("h1")).to_have_text("Máy này chưa được ghép với quầy")
    page.fill("#code", code[:4] + " " + code[4:])
    page.click("button:has-text('Ghép máy')")
    expect(page.locator("button:has-text('Bắt đầu đăng ký')")).to_be_visible()
    assert "kiosk_device" not in page.evaluate("document.cookie")  # HttpOnly
    # kiosk-state.js reports once when the page loads: wait for the row to hold it
    deadline = time.monotonic() + 30
    while not (_stored_state(live_app) or {}).get("camera") and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    state = _stored_state(live_app)
    assert state and state["camera"] in ("found", "allowed") and "×" in state["screen"]
    assert not page.js_errors
