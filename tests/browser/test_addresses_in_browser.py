"""Step 3's «Địa chỉ hiện nay» in Chromium: the block follows the card's text as it is typed,
a split commune's units are touched, and the search list filters as the customer types."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .flows import expect_step, htmx_settled, walk_to_step3
from .screens import Screens

pytestmark = pytest.mark.browser

SPLIT = "Thôn 2, xã Hà Bình, huyện Hà Trung, tỉnh Thanh Hóa"


def test_split_commune_choice_and_search_in_the_browser(live_app, browser_page):
    page = browser_page
    walk_to_step3(page, live_app)
    page.fill("#full_name", "Nguyễn Văn An")
    page.fill("#date_of_birth", "05/09/1985")
    page.locator("label.choice", has_text="Nam").click()
    page.fill("#issue_date", "02/10/2023")

    page.fill("#address", SPLIT)
    page.locator("#address").blur()  # leaving the box refreshes the block once
    block = page.locator("#current-address")
    expect(block.locator("label.choice", has_text="Xã Hoạt Giang")).to_be_visible()
    expect(block.locator("label.choice", has_text="Xã Hà Trung")).to_be_visible()
    htmx_settled(page)

    # The search filters as they type (tone marks optional).
    page.locator("#ward_query").press_sequentially("hoat gi")
    expect(page.locator("#ward-results label.choice", has_text="Xã Hoạt Giang")).to_be_visible()
    htmx_settled(page)
    screens = Screens()
    screens(page, "03-current-address-split")  # screenshot + axe-core on the block and list
    box = block.locator("label.choice", has_text="Xã Hoạt Giang").first.bounding_box()
    assert box["height"] >= 70  # a large touch target

    block.locator("label.choice", has_text="Xã Hoạt Giang").first.click()
    page.get_by_role("button", name="Tiếp tục").click()
    expect_step(page, 4)
    expect(page.locator("dl.summary")).to_contain_text("Thôn 2, xã Hoạt Giang, tỉnh Thanh Hóa")
    assert page.js_errors == []
    screens.assert_clean()
