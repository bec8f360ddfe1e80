"""A first-time customer from welcome to the printed receipt, at both orientations of the kiosk
screen: every screen photographed (tests/browser/screens.py says where) and checked with
axe-core; the current action visible without scrolling; nothing under the sticky bar."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .flows import (
    document_drawn,
    expect_camera_ready,
    expect_step,
    fill_personal,
    htmx_settled,
    sms_code,
)
from .screens import Screens, covered_by_sticky_bar, expect_in_view, in_view

pytestmark = pytest.mark.browser


def _sign(page, canvas_selector):
    canvas = page.locator(canvas_selector)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + 40, box["y"] + box["height"] * 0.6
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x0 + i * 14, y0 - 50 * ((i % 6) / 6), steps=2)
    page.mouse.up()


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_first_time_customer_reaches_the_printed_receipt(live_app, browser_page, screen):
    page, screens = browser_page, Screens()
    page.goto(live_app.config["LIVE_URL"] + "/")
    screens(page, "00-welcome")
    page.get_by_role("button", name="Bắt đầu đăng ký").click()
    expect_step(page, 1)
    screens(page, "01-account")

    # A missing phone number: the error is brought into view and its field focused.
    page.fill("#id_number", "038085012345")
    page.locator("label.choice", has_text="đồng ý").click()
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_selector("#phone[aria-invalid='true']")
    # kiosk.js focuses the field and scrolls it into view just after htmx has settled
    expect(page.locator("#phone")).to_be_focused()
    expect_in_view(page, "#phone")
    assert not covered_by_sticky_bar(page, ".field.has-error")
    screens(page, "01-account-error")
    page.fill("#phone", "0912345678")
    page.get_by_role("button", name="Tiếp tục").click()

    expect_step(page, 2)
    page.locator("label.package-card").first.click()
    screens(page, "02-package")
    page.get_by_role("button", name="Tiếp tục").click()

    expect_step(page, 3)
    fill_personal(page)
    screens(page, "03-personal")
    page.get_by_role("button", name="Tiếp tục").click()

    expect_step(page, 4)
    screens(page, "04-provision")
    page.get_by_role("button", name="Khởi tạo dịch vụ").click()

    expect_step(page, 5)
    screens(page, "05-code")
    assert in_view(page, "#code")
    page.fill("#code", sms_code(live_app))
    page.get_by_role("button", name="Xác nhận mã").click()
    page.wait_for_selector("#password")
    page.fill("#password", "hoa")
    page.fill("#password_confirm", "hoa")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    error = page.locator("#password ~ .field-error, .field.has-error .field-error").first
    expect(error).to_contain_text("A–Z")
    htmx_settled(page)
    page.locator("#password").press_sequentially("Hoa@1234", delay=20)
    expect(page.locator("#password-checklist li.bad")).to_have_count(0)
    # The checklist went green: the old error no longer says the password is wrong.
    expect(page.locator(".field:has(#password) .field-error")).to_have_count(0)
    page.fill("#password_confirm", "Hoa@1234")
    screens(page, "05-password")
    page.get_by_role("button", name="Lưu mật khẩu").click()

    expect_step(page, 6)
    for kind in ("card_front", "card_back", "face"):
        expect_camera_ready(page)
        # The camera and the button that shoots are on screen without scrolling.
        assert in_view(page, "[data-camera-form] .camera"), kind
        assert in_view(page, "[data-camera-shoot]"), kind
        screens(page, f"06-camera-{kind}")
        page.click("[data-camera-shoot]")
        page.wait_for_selector(f"#capture-{kind}.done img", timeout=60_000)
    # Unsure without a liveness recording: the kiosk waits for the console, and a clerk standing
    # at the kiosk can also confirm here (the form is folded under its heading).
    page.wait_for_selector("#waiting-for-clerk")
    screens(page, "06-waiting")
    page.click("summary:has-text('Nhân viên xác nhận tại máy')")
    page.wait_for_selector("#staff_username")
    screens(page, "06-staff")
    page.fill("#staff_username", "nv.hoa")
    page.fill("#staff_password", "Staff@2026")
    page.get_by_role("button", name="Xác nhận: ảnh khớp với người đăng ký").click()

    expect_step(page, 7)
    contract = document_drawn(page)
    # text on paper, drawn at the width it is shown at (sharp, not a scaled picture)
    assert contract["dark"] > 0.002 and contract["light"] > 0.6
    assert abs(contract["width"] - contract["shown"]) <= 2
    assert page.evaluate("document.querySelectorAll('a[target=_blank]').length") == 0
    # The document, the signature pad and «Tôi đồng ý và ký» all on screen at once.
    assert in_view(page, "#signature-canvas-contract") and in_view(page, ".sign-form button[type=submit]")
    assert not covered_by_sticky_bar(page, "#signature-canvas-contract")
    screens(page, "07-contract")
    page.locator("[data-doc-zoom='in']").click()
    zoomed = document_drawn(page, wider_than=contract["width"] * 1.4)  # drawn again at 150 %
    assert abs(zoomed["width"] - zoomed["shown"]) <= 2 and zoomed["dark"] > 0.002
    screens(page, "07-contract-zoomed")
    _sign(page, "#signature-canvas-contract")
    assert not covered_by_sticky_bar(page, "#signature-canvas-contract")
    page.get_by_role("button", name="Tôi đồng ý và ký").click()

    expect_step(page, 8)
    screens(page, "08-pin")
    for digit in "908172":
        page.locator(f"[data-keypad][data-target='pin'] button[data-key='{digit}']").click()
    for digit in "908172":
        page.locator(f"[data-keypad][data-target='pin_confirm'] button[data-key='{digit}']").click()
    assert "908172" not in page.locator("main").inner_text()
    page.get_by_role("button", name="Lưu mã PIN").click()

    expect_step(page, 9)
    # First the certificate's information to confirm, then the acceptance record and its pad.
    assert page.locator(".certificate-fields dt").count() == 8
    screens(page, "09-certificate")
    page.get_by_role("button", name="Thông tin này đúng").click()
    page.wait_for_selector("#signature-canvas-acceptance")
    assert document_drawn(page)["pages"] == 1
    text = page.locator("main").inner_text()
    assert "dịch vụ hoạt động bình thường" not in text
    assert in_view(page, "#signature-canvas-acceptance") and in_view(page, ".sign-form button[type=submit]")
    screens(page, "09-acceptance")
    _sign(page, "#signature-canvas-acceptance")
    assert not covered_by_sticky_bar(page, "#signature-canvas-acceptance")
    page.get_by_role("button", name="Tôi đồng ý và ký").click()

    page.wait_for_selector("h1:has-text('Hoàn tất đăng ký')", timeout=60_000)
    text = page.locator("main").inner_text()
    assert "038085012345" in text and "Hoa@1234" not in text and "908172" not in text
    assert "tại quầy" in text  # where to pay
    screens(page, "10-done")
    prints = list((Path(live_app.instance_path) / "prints").glob("*.pdf"))
    assert len(prints) == 1
    assert page.js_errors == [], "\n".join(page.js_errors)
    screens.assert_clean()
