"""The chip reader at step 6 in a real browser, portrait and landscape: a customer who typed
their data lays the card on the (simulated) reader and the face is compared with the chip."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kiosk.chip.simulated import Person, SimulatedChip, make_card_files, make_test_pki

from .flows import htmx_settled, walk_to_step6
from .screens import Screens, in_view

pytestmark = pytest.mark.browser

# The holder the browser flows type in (fill_account, fill_personal).
TYPED = Person(id_number="038085012345", full_name="Nguyễn Văn An", mrz_name="NGUYEN<<VAN<AN",
               birth_date="850905", birth_date_text="05/09/1985", sex="M", sex_text="Nam")


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_step6_reads_the_chip_in_the_browser(live_app_factory, browser_page, screen):
    from kiosk.services import chip_reading

    app = live_app_factory(CHIP_READER=True)
    files = make_card_files(TYPED, make_test_pki())
    chip_reading.set_transport_factory(app, lambda: SimulatedChip(files, TYPED))
    page, screens = browser_page, Screens()
    walk_to_step6(page, app)
    offer = page.get_by_role("link", name="Đặt thẻ lên đầu đọc")
    expect(offer).to_be_visible()
    assert in_view(page, ".chip-offer a")
    screens(page, "06-chip-offer")
    offer.click()
    expect(page.locator("#chip-status")).to_contain_text("Đầu đọc sẵn sàng, đã có thẻ.")
    htmx_settled(page)
    assert in_view(page, "form button[type=submit]")
    screens(page, "06-chip-reader")
    page.get_by_role("button", name="Đọc chip").click()
    expect(page.locator(".chip-used")).to_contain_text("Đã đọc chip của thẻ", timeout=60_000)
    expect(page.get_by_role("link", name="Đặt thẻ lên đầu đọc")).to_have_count(0)
    screens(page, "06-chip-read")
    screens.assert_clean()
    assert page.js_errors == [], "\n".join(page.js_errors)
