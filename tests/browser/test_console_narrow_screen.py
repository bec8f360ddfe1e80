"""The clerks' console on a narrow office screen (960 px, a small laptop or a half-screen
window): no page's content, forms included, runs past the right edge of its card."""
from __future__ import annotations

import pytest

from tests.staff_console import ADMIN, add_admin

pytestmark = pytest.mark.browser

PAGES = ["/staff/", "/staff/queue", "/staff/search", "/staff/reports", "/staff/audit",
         "/staff/kiosks", "/staff/settings", "/staff/accounts"]

# Every element that sticks out of the card (section) it is in, by more than a pixel.
_OVERFLOWING = """() => {
  const out = [];
  for (const card of document.querySelectorAll('main section, main .card')) {
    const edge = card.getBoundingClientRect().right;
    for (const el of card.querySelectorAll('input, select, button, textarea, form, h1, h2, p')) {
      const box = el.getBoundingClientRect();
      if (box.width && box.right > edge + 1) out.push(`${el.tagName} ${el.name || el.textContent.trim().slice(0, 30)}: ${Math.round(box.right - edge)} px`);
    }
  }
  return out;
}"""


def test_no_console_page_overflows_its_card_at_960_px(live_app, browser_page):
    add_admin(live_app)
    url = live_app.config["LIVE_URL"]
    context = browser_page.context.browser.new_context(viewport={"width": 960, "height": 800},
                                                       locale="vi-VN")
    page = context.new_page()
    page.goto(url + "/staff/login")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("h1")
    found = {}
    for path in PAGES:
        page.goto(url + path)
        page.wait_for_selector("main h1")
        overflowing = page.evaluate(_OVERFLOWING)
        if overflowing:
            found[path] = overflowing
    context.close()
    assert found == {}
