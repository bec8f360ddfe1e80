"""The in-kiosk document viewer in Chromium: the browser draws the PDFs itself (docview.js and
the vendored PDF.js) — sharp at the width shown, again after a zoom, the receipt only when the
customer opens it, and a plain message instead of a blank box when a document cannot be read.

The registration is walked to the document with the Flask test client (the steps before are
the journey test's); its session cookie is then handed to the browser."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from tests.app_factory import kiosk_client
from tests.kiosk_driver import KioskDriver

from .flows import clerk_page, document_drawn

pytestmark = pytest.mark.browser


def _open_in_browser(page, app, driver, path):
    cookie = driver.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value,
                               "url": app.config["LIVE_URL"]}])
    page.goto(app.config["LIVE_URL"] + path)


def _off_the_loop(work):
    """Run ``work()`` in a thread of its own and return its result: Playwright's sync API keeps
    an asyncio loop running on the test's thread, and sealing the contract (asyncio.run inside
    the signing code) refuses to start a second loop there."""
    results: list = []
    failures: list[BaseException] = []

    def run():
        try:
            results.append(work())
        except BaseException as exc:  # re-raised below, on the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return results[0]


def _walked_to(app, number):
    driver = KioskDriver(kiosk_client(app))
    _off_the_loop(lambda: driver.walk_to(number))
    return driver


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_the_contract_is_drawn_by_the_browser_at_the_width_shown(live_app, browser_page, screen):
    page = browser_page
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    driver = _walked_to(live_app, 7)
    _open_in_browser(page, live_app, driver, driver.url(7))
    drawn = document_drawn(page)
    assert drawn["drawn"] == str(drawn["pages"]) and drawn["pages"] >= 2
    assert drawn["dark"] > 0.002 and drawn["light"] > 0.6  # text on paper
    assert abs(drawn["width"] - drawn["shown"]) <= 2
    assert page.locator("[data-doc-pages]").get_attribute("aria-busy") == "false"
    # one PDF for every page, and no page images asked of the server
    assert sum("/document/contract.pdf" in url for url in fetched) == 1
    assert not any(url.endswith(".png") and "/document/" in url for url in fetched)
    for _ in range(3):
        page.locator("[data-doc-zoom='in']").click()
    zoomed = document_drawn(page, wider_than=drawn["width"] * 2.4)  # 250 %, drawn again
    assert abs(zoomed["width"] - zoomed["shown"]) <= 2
    assert page.locator("[data-doc-zoom='in']").is_disabled()
    assert page.js_errors == [], "\n".join(page.js_errors)


def test_a_document_that_cannot_be_read_says_so_and_the_text_stays_readable(live_app, browser_page):
    page = browser_page
    driver = _walked_to(live_app, 7)
    page.route("**/document/contract.pdf",
               lambda route: route.fulfill(status=200, content_type="application/pdf", body=b"%PDF-1.7 broken"))
    _open_in_browser(page, live_app, driver, driver.url(7))
    notice = page.locator("[data-doc-failed]")
    notice.wait_for(state="visible", timeout=20000)
    assert "Không hiển thị được tài liệu" in notice.inner_text()
    assert page.locator("[data-doc-viewer]").get_attribute("data-doc-drawn") == "failed"
    assert page.locator("canvas.doc-page:visible").count() == 0
    page.click("summary:has-text('Đọc bằng chữ lớn')")
    assert page.locator(".doc-view").is_visible()
    assert page.js_errors == [], "\n".join(page.js_errors)


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_the_receipt_is_drawn_only_when_the_customer_opens_it(live_app_factory, browser_page, screen):
    app = live_app_factory(PRINTER="browser")
    page = browser_page
    # Browser printing draws and prints the receipt in its own hidden frame at once
    # (test_the_receipt_prints_through_the_browser_and_says_so); what this test counts is the
    # done screen's own viewer: fetches of the top page only.
    fetched = []
    page.on("request", lambda r: fetched.append(r.url)
            if r.resource_type == "fetch" and r.frame == page.main_frame else None)
    driver = _walked_to(app, 10)
    _open_in_browser(page, app, driver, f"/r/{driver.token}/done")
    page.wait_for_selector("h1:has-text('Hoàn tất đăng ký')")
    viewer = "details.receipt-view [data-doc-viewer]"
    # docview.js has taken the viewer in hand (it disables «A−» at 100 %) and, the receipt
    # being folded, fetches nothing: it would have asked for the PDF in that same moment.
    expect(page.locator(f"{viewer} [data-doc-zoom='out']")).to_be_disabled()
    assert page.locator(viewer).get_attribute("data-doc-drawn") is None
    assert page.locator(f"{viewer} [data-doc-pages]").get_attribute("aria-busy") == "true"
    assert not any("receipt.pdf" in url for url in fetched)
    page.click("summary:has-text('Xem phiếu trên màn hình')")
    receipt = document_drawn(page, viewer)
    assert receipt["pages"] == 1 and receipt["dark"] > 0.002
    # an 80 mm slip keeps a slip's proportions on a wide screen (at most 30rem), drawn sharp
    slip = page.evaluate("30 * parseFloat(getComputedStyle(document.documentElement).fontSize)"
                         " * window.devicePixelRatio")
    assert receipt["shown"] <= slip + 1 and abs(receipt["width"] - receipt["shown"]) <= 2
    assert sum("receipt.pdf" in url for url in fetched) == 1
    assert page.js_errors == [], "\n".join(page.js_errors)


_RED_INK = """(canvas) => {
  const top = Math.floor(canvas.height * 0.06);  // below the red sandbox band
  const d = canvas.getContext('2d').getImageData(0, top, canvas.width, canvas.height - top).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 90 && d[i + 2] < 90) n++;
  return n;
}"""


def _red_signature() -> bytes:
    import cv2
    import numpy as np

    canvas = np.zeros((260, 900, 4), dtype=np.uint8)
    points = np.array([[60, 200], [200, 80], [320, 190], [470, 70], [640, 180], [820, 90]], np.int32)
    cv2.polylines(canvas, [points], False, (30, 30, 220, 255), 6)  # BGRA: a red pen
    return cv2.imencode(".png", canvas)[1].tobytes()


def test_the_signed_contract_shows_the_signature_in_the_browser(live_app, browser_page):
    """The signed copy is the text the customer read plus an incremental update that fills the
    customer's box: PDF.js draws the update (the drawing in its ink) on the same pages."""
    page = browser_page
    driver = _walked_to(live_app, 7)
    _open_in_browser(page, live_app, driver, driver.url(7))
    before = document_drawn(page, all_pages=True)
    assert page.locator("canvas.doc-page").last.evaluate(_RED_INK) == 0
    assert _off_the_loop(lambda: driver.sign(7, _red_signature())).status_code == 200
    page.goto(live_app.config["LIVE_URL"] + driver.url(7))  # the signed contract, read only
    after = document_drawn(page, all_pages=True)
    assert after["pages"] == before["pages"]
    assert page.locator("canvas.doc-page").last.evaluate(_RED_INK) > 200
    assert page.js_errors == [], "\n".join(page.js_errors)


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_the_receipt_prints_through_the_browser_and_says_so(live_app_factory, browser_page,
                                                            screen):
    """The real print path, window.print left alone (headless Chromium's print() returns): the
    hidden frame draws the receipt page, prints it, and the status says it was sent; the clerk's
    console shows the printing in the registration's history and no call."""
    app = live_app_factory(PRINTER="browser")
    page = browser_page
    driver = _walked_to(app, 10)
    _open_in_browser(page, app, driver, f"/r/{driver.token}/done")
    frame = page.locator("iframe[data-autoprint]")
    expect(frame).to_have_attribute("data-print-state", "printed", timeout=30_000)
    drawn = page.frame_locator("iframe[data-autoprint]").locator("[data-doc-viewer]")
    expect(drawn).to_have_attribute("data-doc-drawn", "1")
    expect(page.locator("[data-print-status]")).to_have_text(
        "Phiếu đã được gửi tới máy in. Vui lòng lấy phiếu ở khe máy in.")
    assert page.url.endswith("/done")  # the kiosk never navigates to the PDF
    expect(page.locator("#waiting-for-clerk")).to_have_count(0)
    # The clerk: no call on the board, and «In phiếu» in the registration's history.
    clerk = clerk_page(page, app.config["LIVE_URL"])
    expect(clerk.locator("#board .queue-panel")).to_have_attribute("data-queue-count", "0")
    clerk.goto(f"{app.config['LIVE_URL']}/staff/r/{driver.registration().number}")
    history = clerk.locator("table.audit")
    expect(history).to_contain_text("In phiếu")
    expect(history).not_to_contain_text("In phiếu chưa được")
    assert page.js_errors == [] and clerk.js_errors == [], page.js_errors + clerk.js_errors
    clerk.context.close()


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_a_receipt_that_cannot_be_drawn_says_so_and_calls_the_clerk(live_app_factory, browser_page,
                                                                    screen):
    """The frame cannot draw the receipt: the kiosk says so and calls the clerk by itself, and
    the clerk's board shows the call with its reason."""
    app = live_app_factory(PRINTER="browser")
    page = browser_page
    page.route("**/receipt.pdf", lambda route: route.fulfill(
        status=200, content_type="application/pdf", body=b"%PDF-1.7 broken"))
    driver = _walked_to(app, 10)
    _open_in_browser(page, app, driver, f"/r/{driver.token}/done")
    expect(page.locator("iframe[data-autoprint]")).to_have_attribute("data-print-state", "failed",
                                                                     timeout=30_000)
    expect(page.locator("[data-print-status]")).to_contain_text("Chưa in được phiếu")
    expect(page.locator("#waiting-for-clerk")).to_be_visible()
    assert driver.registration().help_reason == "printer_error"
    clerk = clerk_page(page, app.config["LIVE_URL"])
    call = clerk.locator("#board .queue-panel tr.is-waiting")
    expect(call).to_have_count(1)
    expect(call).to_contain_text("Máy in chưa in được phiếu.")
    clerk.goto(f"{app.config['LIVE_URL']}/staff/r/{driver.registration().number}")
    expect(clerk.locator("table.audit")).to_contain_text("In phiếu chưa được")
    assert page.js_errors == [] and clerk.js_errors == [], page.js_errors + clerk.js_errors
    clerk.context.close()
