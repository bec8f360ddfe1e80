"""A card whose QR code does not read: the front's printed number waits for the back, then is
offered in the form with a request to check each digit — at both orientations, through the
document-scanner upload (the fake camera shows a blank card the guidance never accepts)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_wizard_cards import back
from tests.test_wizard_scan import _front_without_its_qr_code

from .flows import htmx_settled, open_card_scan
from .screens import Screens, in_view


def _upload(page, path) -> None:
    page.locator("details.upload-fallback summary").click()
    page.set_input_files("input[name=image_file]", str(path))
    page.get_by_role("button", name="Tải ảnh lên").click()


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_a_printed_number_is_offered_to_check_once_the_back_is_seen(live_app, browser_page,
                                                                     screen, tmp_path):
    from kiosk.vision.printed_number import available

    if not available():
        pytest.skip("Tesseract (tesserocr + tesseract-ocr-eng) is not installed")
    page, screens = browser_page, Screens()
    page.screen_name = screen
    front, rear = tmp_path / "front.jpg", tmp_path / "back.jpg"
    front.write_bytes(_front_without_its_qr_code())
    rear.write_bytes(back("cccd_barcode_2016"))
    open_card_scan(page, live_app)
    _upload(page, front)
    expect(page.locator(".notice")).to_contain_text("mã QR ở mặt sau", timeout=30000)
    htmx_settled(page)
    screens(page, "01-printed-number-turn-over")
    _upload(page, rear)
    expect(page.locator("[data-printed-number]")).to_contain_text("so từng chữ số",
                                                                  timeout=30000)
    htmx_settled(page)
    assert page.input_value("#id_number") == "038085012345"
    assert in_view(page, "[data-printed-number]")
    expect(page.locator(".notice.success")).to_have_count(0)  # not «Đã đọc thẻ» as if from QR
    screens(page, "01-printed-number-check")
    screens.assert_clean()
    assert page.js_errors == [], "\n".join(page.js_errors)
