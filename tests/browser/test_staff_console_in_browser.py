"""A kiosk and the clerks' console side by side in one chromium (two browser contexts): the
unsure step 6 waits, the clerk rejects then approves in the console, and the kiosk moves on by
itself each time."""
from __future__ import annotations

import pytest

from .flows import SLOW, clerk_page, expect_camera_ready, expect_step, shoot, walk_to_step6

pytestmark = pytest.mark.browser


def test_clerk_decides_in_the_console_and_the_waiting_kiosk_moves_on(live_app, browser_page):
    kiosk, url = browser_page, live_app.config["LIVE_URL"]
    clerk = clerk_page(kiosk, url)
    clerk.wait_for_selector("#queue-badge [data-queue-count='0']")

    walk_to_step6(kiosk, live_app)
    for kind in ("card_front", "card_back", "face"):  # the fake camera shows no face
        shoot(kiosk, kind)
    kiosk.wait_for_selector("#waiting-for-clerk:has-text('Đang chờ nhân viên hỗ trợ')")

    # The console notices by itself (board poll + queue badge), without a reload.
    clerk.wait_for_selector("#queue-badge [data-queue-count='1']", timeout=30_000)
    clerk.wait_for_selector("#board tr.is-waiting", timeout=30_000)
    assert "038******345" in clerk.locator("#board").inner_text()
    clerk.locator("#board tr.is-waiting a:has-text('Xem xét')").first.click()
    clerk.wait_for_selector("h1:has-text('Xem xét hồ sơ')")
    assert "Khoảng cách khuôn mặt" in clerk.content()

    # Reject with a reason: the kiosk says why and that it cannot go on there; no camera.
    clerk.select_option("select[name=reason]", "face_unclear")
    clerk.click("#reject")
    clerk.wait_for_selector("text=Đã từ chối")
    kiosk.wait_for_selector("text=Ảnh khuôn mặt chưa rõ", timeout=30_000)
    kiosk.wait_for_selector("[data-result=staff_rejected]")
    assert "không thể tiếp tục tại máy" in kiosk.content()
    assert kiosk.locator("#waiting-for-clerk").count() == 0
    assert kiosk.locator("[data-liveness-form]").count() == 0

    # The customer calls the clerk; the clerk allows one more try: the waiting kiosk goes back
    # to the face camera by itself.
    kiosk.click("[data-result=staff_rejected] [data-help-reason=kyc_rejected]")
    kiosk.wait_for_selector("#waiting-for-clerk", timeout=SLOW)
    clerk.click("#allow-retry")
    clerk.wait_for_selector("text=Đã cho khách thử lại một lượt")

    # A new plain photo: the registration is queued again; this time the clerk approves.
    expect_camera_ready(kiosk)
    kiosk.click("[data-camera-shoot]")
    kiosk.wait_for_selector("#waiting-for-clerk", timeout=SLOW)
    clerk.goto(clerk.url.split("?")[0])
    clerk.click("#approve")
    clerk.wait_for_selector("text=Đã xác nhận")
    expect_step(kiosk, 7)

    assert kiosk.js_errors == [] and clerk.js_errors == []
    clerk.context.close()
