"""Kiosk behaviours that need a real browser: idle timeout, print again."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .screens import Screens

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_idle_kiosk_warns_then_returns_to_welcome(live_app_factory, browser_page, screen):
    # (a warning long enough for the screenshot and the accessibility check)
    app = live_app_factory(IDLE_TIMEOUT_SECONDS=7, IDLE_WARNING_SECONDS=5)
    page = browser_page
    page.goto(app.config["LIVE_URL"] + "/")
    page.get_by_role("button", name="Bắt đầu đăng ký").click()
    page.wait_for_selector("h1.step-title:has-text('Bước 1/9')")
    dialog = page.locator(".idle-dialog")
    expect(dialog).to_be_visible(timeout=6000)
    expect(dialog).to_contain_text("Quý khách còn tiếp tục không?")
    screens = Screens()
    screens(page, "idle-warning")
    page.wait_for_url(app.config["LIVE_URL"] + "/", timeout=10000)
    expect(page.get_by_role("button", name="Bắt đầu đăng ký")).to_be_visible()
    assert "Tiếp tục hồ sơ này" not in page.content()  # the screen forgot the customer
    screens(page, "idle-back-to-welcome")
    assert page.js_errors == [], "\n".join(page.js_errors)
    screens.assert_clean()


def test_touching_the_warning_keeps_the_customer_on_the_step(live_app_factory, browser_page):
    app = live_app_factory(IDLE_TIMEOUT_SECONDS=5, IDLE_WARNING_SECONDS=3)
    page = browser_page
    page.goto(app.config["LIVE_URL"] + "/")
    page.get_by_role("button", name="Bắt đầu đăng ký").click()
    page.wait_for_selector("h1.step-title:has-text('Bước 1/9')")
    page.locator(".idle-dialog [data-idle-continue]").click(timeout=6000)
    page.wait_for_timeout(2500)
    assert "/step/1" in page.url
    expect(page.locator("h1.step-title")).to_contain_text("Bước 1/9")
