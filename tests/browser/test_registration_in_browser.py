"""A person's registration from welcome to the printed receipt, in a real chromium."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KIOSK_SCREENSHOTS")  # a folder: save a screenshot per step


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _sms_code(app) -> str:
    from kiosk.core.extensions import db
    from kiosk.core.models import SmsMessage

    with app.app_context():
        msg = db.session.scalar(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(1))
        return re.search(r"\b(\d{6})\b", msg.body["text"]).group(1)


def _sign(page, canvas_selector):
    page.mouse.move(5, 5)  # over the banner, so the wheel scrolls the page, not the document text
    page.mouse.wheel(0, 5000)  # the pad sits at the end of the form, above the sticky buttons
    page.wait_for_timeout(300)
    box = page.locator(canvas_selector).bounding_box()
    x0, y0 = box["x"] + 40, box["y"] + box["height"] * 0.7
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x0 + i * 18, y0 - 60 * ((i % 6) / 6), steps=2)
    page.mouse.up()


def _expect_step(page, number):
    page.wait_for_selector(f"h1.step-title:has-text('Bước {number}/9')", timeout=15000)


def test_customer_registers_from_welcome_to_receipt(live_app, browser_page):
    page, url = browser_page, live_app.config["LIVE_URL"]
    page.goto(url + "/")
    assert "MÔI TRƯỜNG THỬ NGHIỆM" in page.content()
    _shot(page, "00-welcome")
    page.get_by_role("button", name="Bắt đầu đăng ký").click()

    _expect_step(page, 1)
    page.fill("#id_number", "038085012345")
    page.fill("#phone", "0912345678")
    page.locator("label.choice", has_text="đồng ý").click()
    _shot(page, "01-account")
    page.get_by_role("button", name="Tiếp tục").click()

    _expect_step(page, 2)
    assert re.search(r"/r/[^/]+/step/2$", page.url)  # hx-push-url keeps the address right
    page.locator("label.package-card").first.click()
    _shot(page, "02-package")
    page.get_by_role("button", name="Tiếp tục").click()

    _expect_step(page, 3)
    page.fill("#full_name", "Nguyễn Văn An")
    page.fill("#date_of_birth", "05/09/1958")  # a slip: disagrees with the CCCD number
    page.locator("label.choice", has_text="Nam").click()
    page.fill("#address", "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa")
    page.fill("#issue_date", "02/10/2023")
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_selector(".field-error")
    assert "1985" in page.locator(".field-error").first.inner_text()
    assert page.input_value("#full_name") == "Nguyễn Văn An"  # nothing typed is lost
    _shot(page, "03-personal-error")
    page.fill("#date_of_birth", "05/09/1985")
    page.get_by_role("button", name="Tiếp tục").click()

    _expect_step(page, 4)
    _shot(page, "04-provision")
    page.get_by_role("button", name="Khởi tạo dịch vụ").click()

    _expect_step(page, 5)
    assert "091* *** 678" in page.content()
    page.fill("#code", _sms_code(live_app))
    page.get_by_role("button", name="Xác nhận mã").click()
    page.wait_for_selector("#password")
    page.fill("#password", "hoa")
    page.wait_for_selector("#password-checklist li.bad")
    page.fill("#password", "Hoa@1234")
    expect(page.locator("#password-checklist li.bad")).to_have_count(0)
    page.fill("#password_confirm", "Hoa@1234")
    _shot(page, "05-password")
    page.get_by_role("button", name="Lưu mật khẩu").click()

    _expect_step(page, 6)
    for kind in ("card_front", "card_back", "face"):
        page.wait_for_selector("[data-camera-form][data-camera-state='ready']", timeout=15000)
        _shot(page, f"06-camera-{kind}")
        page.click("[data-camera-shoot]")
        page.wait_for_selector(f"#capture-{kind}.done img", timeout=15000)
    page.fill("#staff_username", "nv.hoa")
    page.fill("#staff_password", "Staff@2026")
    _shot(page, "06-staff")
    page.get_by_role("button", name="Xác nhận: ảnh khớp với người đăng ký").click()

    _expect_step(page, 7)
    assert "HỢP ĐỒNG" in page.content()
    _sign(page, "#signature-canvas-contract")
    _shot(page, "07-contract")
    page.get_by_role("button", name="Tôi đồng ý và ký").click()

    _expect_step(page, 8)
    for digit in "908172":
        page.locator(f"[data-keypad][data-target='pin'] button[data-key='{digit}']").click()
    for digit in "908172":
        page.locator(f"[data-keypad][data-target='pin_confirm'] button[data-key='{digit}']").click()
    assert "908172" not in page.locator("main").inner_text()  # the PIN is never shown
    _shot(page, "08-pin")
    page.get_by_role("button", name="Lưu mã PIN").click()

    _expect_step(page, 9)
    _sign(page, "#signature-canvas-acceptance")
    _shot(page, "09-acceptance")
    page.get_by_role("button", name="Tôi đồng ý và ký").click()

    page.wait_for_selector("h1:has-text('Hoàn tất đăng ký')", timeout=20000)
    text = page.locator("main").inner_text()
    assert "038085012345" in text and "Hoa@1234" not in text and "908172" not in text
    _shot(page, "10-done")
    prints = list((Path(live_app.instance_path) / "prints").glob("*.pdf"))
    assert len(prints) == 1
    assert page.js_errors == []
