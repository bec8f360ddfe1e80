"""Steps a customer takes in the browser, shared by the browser tests."""
from __future__ import annotations

import re

from sqlalchemy import select

# How long a test waits for a state the kiosk reaches after real work: a camera opening, a photo
# judged, a step rendered. On a loaded machine (two cores shared by several browsers) the fake
# camera took longer than 15 s to start; a long timeout costs time only when the state never
# comes, so these are generous.
SLOW = 60_000


def expect_step(page, number, timeout=30_000):
    page.wait_for_selector(f"h1.step-title:has-text('Bước {number}/9')", timeout=timeout)


def expect_camera_ready(page, form="form[data-camera-form]", timeout=SLOW):
    """The camera of ``form`` shows a live picture (camera.js sets data-camera-state="ready")."""
    from playwright.sync_api import expect

    expect(page.locator(form).first).to_have_attribute("data-camera-state", "ready",
                                                       timeout=timeout)


def shoot(page, kind, timeout=SLOW):
    """«Chụp ảnh» on the ready camera, then the photo of ``kind`` is shown as taken."""
    expect_camera_ready(page)
    page.click("[data-camera-shoot]")
    page.wait_for_selector(f"#capture-{kind}.done img", timeout=timeout)


def wait_for_state(page, predicate: str, arg=None, timeout=30_000, what="the page state"):
    """Wait until the JS function ``predicate(arg)`` returns something truthy, and return it.

    Polled inside the page by one evaluate, because Playwright's wait_for_function builds its
    predicate with ``new Function``, which the kiosk's CSP (no unsafe-eval) forbids; an
    evaluate is compiled by the DevTools protocol, outside the CSP. (Not for a page whose
    clock is faked: the poll's setTimeout would stand still.)"""
    found = page.evaluate(f"""async (arg) => {{
      const test = {predicate};
      const end = performance.now() + {int(timeout)};
      for (;;) {{
        const value = await test(arg);
        if (value) return value;
        if (performance.now() > end) return null;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }}
    }}""", arg)
    if not found:
        raise AssertionError(f"{what}: not reached within {timeout} ms")
    return found


def htmx_settled(page, timeout=30_000):
    """Wait until htmx has finished swapping and settling: new content gets its triggers
    bound at settle time, so typing before that would go unheard."""
    # A locator, not wait_for_function: the kiosk's CSP forbids the eval that polls a string.
    from playwright.sync_api import expect

    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(
        0, timeout=timeout)


def sms_code(app) -> str:
    from kiosk.core.extensions import db
    from kiosk.core.models import SmsMessage

    with app.app_context():
        msg = db.session.scalar(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(1))
        return re.search(r"\b(\d{6})\b", msg.body["text"]).group(1)


def start(page, app):
    page.goto(app.config["LIVE_URL"] + "/")
    page.get_by_role("button", name="Bắt đầu đăng ký").click()
    expect_step(page, 1)


def fill_account(page):
    page.fill("#id_number", "038085012345")
    page.fill("#phone", "0912345678")
    page.locator("label.choice", has_text="đồng ý").click()


def fill_personal(page, dob="05/09/1985"):
    page.fill("#full_name", "Nguyễn Văn An")
    page.fill("#date_of_birth", dob)
    page.locator("label.choice", has_text="Nam").click()
    page.fill("#address", "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa")
    page.fill("#issue_date", "02/10/2023")
    # Leaving the address asked for today's address (its change trigger); htmx drops a «Tiếp
    # tục» pressed while that answer is on its way, so the next click waits for it.
    expect_current_address(page)


def expect_current_address(page):
    from playwright.sync_api import expect

    expect(page.locator("#current-address input[name=ward_code]:checked")).to_have_count(1)
    htmx_settled(page)


def open_scan_consent(page):
    """From step 1, «Quét thẻ căn cước»: the consent form, swapped in and settled. Step 1 has a
    consent box of its own, so ticking before the swap would tick the wrong one."""
    page.get_by_role("link", name="Quét thẻ căn cước").click()
    page.wait_for_selector("form[action$='/scan/consent']")
    htmx_settled(page)


def give_scan_consent(page):
    page.locator("form[action$='/scan/consent'] label.choice", has_text="đồng ý").click()
    page.get_by_role("button", name="Đồng ý và quét thẻ").click()


def open_card_scan(page, app):
    """A new registration, «Quét thẻ căn cước», consent given: the camera with live guidance."""
    start(page, app)
    open_scan_consent(page)
    give_scan_consent(page)
    page.wait_for_selector("form[data-guidance-url]")


def walk_to_step3(page, app):
    """Steps 1–2 on the happy path, typing everything: step 3's form, settled."""
    start(page, app)
    fill_account(page)
    page.get_by_role("button", name="Tiếp tục").click()
    expect_step(page, 2)
    page.locator("label.package-card").first.click()
    page.get_by_role("button", name="Tiếp tục").click()
    expect_step(page, 3)
    htmx_settled(page)


def walk_to_step5(page, app):
    """Steps 1–4 on the happy path, typing everything: the activation code is on its way."""
    walk_to_step3(page, app)
    fill_personal(page)
    page.get_by_role("button", name="Tiếp tục").click()
    expect_step(page, 4)
    page.get_by_role("button", name="Khởi tạo dịch vụ").click()
    expect_step(page, 5)


def walk_to_step6(page, app):
    """Steps 1–5 on the happy path, typing everything."""
    walk_to_step5(page, app)
    page.fill("#code", sms_code(app))
    page.get_by_role("button", name="Xác nhận mã").click()
    page.wait_for_selector("#password")
    page.fill("#password", "Hoa@1234")
    page.fill("#password_confirm", "Hoa@1234")
    page.get_by_role("button", name="Lưu mật khẩu").click()
    expect_step(page, 6)


# What docview.js reports of the document viewer: pages drawn, and the first page's pixels.
_DRAWN = """(viewer) => {
  const canvas = viewer.querySelector('canvas.doc-page');
  if (!canvas || canvas.width === 0) return null;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0, light = 0;
  for (let i = 0; i < data.length; i += 4) {
    const grey = (data[i] + data[i + 1] + data[i + 2]) / 3;
    if (data[i + 3] > 0 && grey < 96) dark++;
    else if (data[i + 3] > 0 && grey > 240) light++;
  }
  return {drawn: viewer.getAttribute('data-doc-drawn'), width: canvas.width,
          shown: canvas.clientWidth * window.devicePixelRatio,
          pages: viewer.querySelectorAll('canvas.doc-page').length,
          dark: dark / (canvas.width * canvas.height), light: light / (canvas.width * canvas.height)};
}"""


def document_drawn(page, viewer="[data-doc-viewer]", wider_than=0, all_pages=False,
                   timeout=SLOW):
    """Wait until the viewer's pages are drawn (wider than ``wider_than`` device pixels, for a
    redraw after a zoom; every page with ``all_pages``) and return what its first page looks
    like. A viewer that gave up («failed») ends the wait at once."""
    state = wait_for_state(page, f"""([selector, widerThan, allPages]) => {{
      const viewer = document.querySelector(selector);
      const drawn = viewer && viewer.getAttribute('data-doc-drawn');
      if (drawn === 'failed') return {{drawn}};
      const canvas = viewer && viewer.querySelector('canvas.doc-page');
      // the cheap checks first: the pixels are counted once, on the finished drawing
      if (!drawn || !canvas || canvas.width <= widerThan) return null;
      if (allPages && drawn !== String(viewer.querySelectorAll('canvas.doc-page').length)) return null;
      return ({_DRAWN})(viewer);
    }}""", [viewer, wider_than, all_pages], timeout, what=f"the document in {viewer} drawn")
    assert state["drawn"] != "failed", f"the document was not drawn: {state}"
    return state


def clerk_page(kiosk_page, url):
    """The clerks' console beside the kiosk: a second browser context in the same chromium (its
    own cookies, so its own session), signed in as the test clerk, on the board."""
    from tests.app_factory import STAFF

    context = kiosk_page.context.browser.new_context(viewport={"width": 1400, "height": 900},
                                                     locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.js_errors = errors
    page.goto(url + "/staff/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("h1:has-text('Hồ sơ hôm nay')")
    return page
