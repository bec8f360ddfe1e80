"""Layout at the counter's small landscape screen (1366×768) and in portrait: what the customer
must see or touch is wholly in the viewport and nothing covers it (bounding boxes)."""
from __future__ import annotations

import pytest

from .flows import expect_camera_ready, shoot, start, walk_to_step6
from .screens import covered_by_sticky_bar, in_view

pytestmark = pytest.mark.browser

_BOX = "sel => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
_TICK = """sel => { const el = document.querySelector(sel); const r = el.getBoundingClientRect();
  const s = getComputedStyle(el, '::after'); const w = parseFloat(s.width), h = parseFloat(s.height);
  const right = r.right - parseFloat(s.right) - parseFloat(getComputedStyle(el).borderRightWidth);
  const top = r.top + parseFloat(s.top) + parseFloat(getComputedStyle(el).borderTopWidth);
  return [right - w, top, right, top + h]; }"""
_TEXT = """sel => { const el = document.querySelector(sel); const range = document.createRange();
  range.selectNodeContents(el); const r = range.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom, range.getClientRects().length]; }"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_step6_at_1366x768_tick_clear_of_titles_retake_on_one_line_buttons_in_view(
        live_app, browser_page):
    page = browser_page  # the "small" screen: 1366×768
    walk_to_step6(page, live_app)
    for kind in ("card_front", "card_back"):
        shoot(page, kind)
    expect_camera_ready(page, "form[data-liveness-form]")
    for kind in ("card_front", "card_back"):
        tick = page.evaluate(_TICK, f"#capture-{kind}")
        title = page.evaluate(_TEXT, f"#capture-{kind} h2")
        assert not _overlap(tick, title[:4]), (kind, tick, title)
        retake = page.evaluate(_TEXT, f"#capture-{kind} .btn-link")
        assert retake[4] == 1, f"«Chụp lại» of {kind} wraps"
    for button in ("[data-camera-shoot]", "[data-liveness-start]"):
        assert in_view(page, button), (button, page.evaluate(_BOX, button))
    assert page.js_errors == [], "\n".join(page.js_errors)


@pytest.mark.parametrize("screen", ["portrait"])
def test_step1_consent_is_in_view_in_portrait(live_app, browser_page, screen):
    page = browser_page
    start(page, live_app)
    consent = "form label.choice:has(input[name='consent'])"
    assert page.locator(consent).count() == 1
    assert in_view(page, consent), page.evaluate(_BOX, consent)
    assert not covered_by_sticky_bar(page, consent), (page.evaluate(_BOX, consent), page.evaluate(_BOX, "form .actions"))
    # the notice is all there, in a box that scrolls
    notice = ".consent-notice"
    assert page.evaluate(f"document.querySelector('{notice}').scrollHeight > "
                         f"document.querySelector('{notice}').clientHeight")
    assert page.locator(notice).get_attribute("tabindex") == "0"
    assert page.js_errors == [], "\n".join(page.js_errors)


def test_a_refused_confirmation_keeps_the_password_that_met_the_rules(live_app, browser_page):
    from .flows import sms_code, walk_to_step5

    page = browser_page
    walk_to_step5(page, live_app)
    page.fill("#code", sms_code(live_app))
    page.get_by_role("button", name="Xác nhận mã").click()
    page.wait_for_selector("#password")
    page.fill("#password", "Hoa@1234")
    page.fill("#password_confirm", "Hoa@1235")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    from playwright.sync_api import expect

    expect(page.locator(".field-error")).to_contain_text("không giống nhau")
    assert page.input_value("#password") == "Hoa@1234"  # kept, in the browser only
    assert page.input_value("#password_confirm") == ""  # the refused one is emptied
    page.fill("#password_confirm", "Hoa@1234")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    from .flows import expect_step

    expect_step(page, 6)
    assert page.js_errors == [], "\n".join(page.js_errors)
