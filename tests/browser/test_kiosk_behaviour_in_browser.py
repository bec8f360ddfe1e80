"""Kiosk behaviours that need a real browser: the idle warning and the return to welcome.

The page's clock is Playwright's fake one (``page.clock``): time still flows, and ``run_for``
moves it on by minutes at once, firing idle.js's timers on the way. So the tests use the
minutes a kiosk really waits, and a loaded machine cannot make a step outlast the warning."""
from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .flows import clerk_page, expect_step, htmx_settled, start
from .screens import Screens

pytestmark = pytest.mark.browser

# Warning after 200 s without a touch, home at 300 s. The warning (100 s) is shorter than the
# quiet time before it, so after a touch on the warning the test can wait out more than the
# time that was left without the next warning coming.
TIMEOUT_S, WARNING_S = 300, 100


def _idle_kiosk_at_step_1(live_app_factory, page):
    app = live_app_factory(IDLE_TIMEOUT_SECONDS=TIMEOUT_S, IDLE_WARNING_SECONDS=WARNING_S)
    page.clock.install()
    idle_posts = []
    page.on("request", lambda r: idle_posts.append(r.url) if r.url.endswith("/idle") else None)
    start(page, app)
    # Step 1 is a page of its own: idle.js starts its clock at DOMContentLoaded, which on a busy
    # machine may come after the heading is seen. A clock moved on before that start is lost
    # (idle.js counts from when it starts), so wait for the page's load event (which follows
    # DOMContentLoaded, and is the browser's, not a timer of the faked clock).
    page.wait_for_load_state("load")
    return app, idle_posts


def _run_clock_until_idle_posted(page, idle_posts, limit_s, step_ms=1000):
    """Move the clock on a step at a time until idle.js has told the server (it goes home
    then). One long run_for would also fire, at once, the 5 s after which idle.js stops waiting
    for that answer, and the welcome screen could load before the server forgot the customer."""
    for _ in range(limit_s * 1000 // step_ms):
        if idle_posts:
            return
        page.clock.run_for(step_ms)
    assert idle_posts, f"no POST to /idle within {limit_s} s"


def _status_polls_tried(page, in_flight: list, limit_s: float = 30.0) -> list:
    """The status polls htmx tried since ``window.__statusPolls`` was emptied (each entry:
    whether it was cancelled). A poll whose timer fires while the previous poll is still
    waiting for a busy server is queued by htmx and tried when that answer comes: wait for
    that answer (``in_flight``: the status requests not finished), then look again."""
    deadline = time.monotonic() + limit_s
    while True:
        polls = page.evaluate("() => window.__statusPolls")
        if polls or time.monotonic() > deadline:
            return polls
        if in_flight:
            # it may have finished before the wait began, or failed: then look again
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_event("requestfinished", timeout=2_000,
                                    predicate=lambda r: r.url.endswith("/status"))


@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_idle_kiosk_warns_then_returns_to_welcome(live_app_factory, browser_page, screen):
    page = browser_page
    app, idle_posts = _idle_kiosk_at_step_1(live_app_factory, page)
    dialog = page.locator(".idle-dialog")
    page.clock.run_for((TIMEOUT_S - WARNING_S - 10) * 1000)
    expect(dialog).to_be_hidden()  # not before its time
    page.clock.run_for(11_000)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Quý khách còn tiếp tục không?")
    assert 0 < int(dialog.locator(".idle-countdown").inner_text()) <= WARNING_S
    expect(dialog.locator("[data-idle-continue]")).to_be_focused()
    screens = Screens()
    screens(page, "idle-warning")
    _run_clock_until_idle_posted(page, idle_posts, WARNING_S + 5)
    page.wait_for_url(app.config["LIVE_URL"] + "/?left=idle")
    assert len(idle_posts) == 1  # the server was told, so it forgot the customer
    expect(page.get_by_role("button", name="Bắt đầu đăng ký")).to_be_visible()
    assert "Tiếp tục hồ sơ này" not in page.content()  # the screen forgot the customer
    screens(page, "idle-back-to-welcome")
    assert page.js_errors == [], "\n".join(page.js_errors)
    screens.assert_clean()


def test_touching_the_warning_keeps_the_customer_on_the_step(live_app_factory, browser_page):
    page = browser_page
    app, idle_posts = _idle_kiosk_at_step_1(live_app_factory, page)
    dialog = page.locator(".idle-dialog")
    page.clock.run_for((TIMEOUT_S - WARNING_S + 1) * 1000)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Tôi vẫn đang dùng").click()
    expect(dialog).to_be_hidden()
    # Longer than the warning had left: without the touch the kiosk would have gone home by now.
    page.clock.run_for((WARNING_S + 10) * 1000)
    expect(dialog).to_be_hidden()
    assert idle_posts == []
    assert re.search(r"/step/1$", page.url), page.url
    expect_step(page, 1)
    # The touch restarted the whole wait: the warning comes back only after it, then home.
    page.clock.run_for((TIMEOUT_S - WARNING_S - (WARNING_S + 10) - 5) * 1000)
    expect(dialog).to_be_hidden()
    _run_clock_until_idle_posted(page, idle_posts, WARNING_S + 15)
    page.wait_for_url(app.config["LIVE_URL"] + "/?left=idle")
    assert len(idle_posts) == 1
    assert page.js_errors == [], "\n".join(page.js_errors)


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_a_customer_locked_out_of_the_code_step_waits_for_the_clerk_past_the_idle_timeout(
        live_app_factory, browser_page, screen):
    """Five wrong codes call the clerk by itself; the console's board shows the call (a second
    browser context, a signed-in clerk); while the clerk is awaited the idle timer does not run
    (data-clerk-called): the kiosk stays on the step, no warning, no /idle."""
    from .flows import walk_to_step5

    page = browser_page
    app = live_app_factory(IDLE_TIMEOUT_SECONDS=60, IDLE_WARNING_SECONDS=20)
    page.clock.install()
    idle_posts = []
    page.on("request", lambda r: idle_posts.append(r.url) if r.url.endswith("/idle") else None)
    walk_to_step5(page, app)
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        page.fill("#code", "000000")
        page.get_by_role("button", name="Xác nhận mã").click()
        htmx_settled(page)
    expect(page.locator("#waiting-for-clerk[data-clerk-called]")).to_be_visible()
    expect(page.locator(".notice.blocked")).to_contain_text("Máy đã tự gọi nhân viên")
    # The clerk sees the call on the board by itself (its poll), with the true reason.
    clerk = clerk_page(page, app.config["LIVE_URL"])
    call = clerk.locator("#board .queue-panel tr.is-waiting")
    expect(call).to_have_count(1, timeout=30_000)
    expect(call).to_contain_text("Khách nhập sai mã kích hoạt quá số lần cho phép.")
    expect(call.get_by_role("link", name="Hỗ trợ")).to_be_visible()
    for _ in range(30):  # 150 s: two and a half idle timeouts, in steps the polls can follow
        page.clock.run_for(5000)
    expect(page.locator(".idle-dialog")).to_be_hidden()
    assert idle_posts == [] and re.search(r"/step/5$", page.url), page.url
    expect(page.locator("#waiting-for-clerk[data-clerk-called]")).to_be_visible()
    expect(call).to_have_count(1)  # still called: nothing on the kiosk's side withdrew it
    assert page.js_errors == [] and clerk.js_errors == [], page.js_errors + clerk.js_errors
    clerk.context.close()


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_a_cancel_in_the_console_returns_the_kiosk_to_welcome_within_the_poll_interval(
        live_app_factory, browser_page, screen):
    """The clerk cancels in the console (a second browser context, signed in), reads that it
    is done, and the kiosk is back at welcome within one status poll, forgetting the customer."""
    from sqlalchemy import select

    from kiosk.core.extensions import db
    from kiosk.core.models import Registration

    page = browser_page
    app = live_app_factory(KIOSK_STATUS_POLL_SECONDS=2)
    url = app.config["LIVE_URL"]
    start(page, app)
    with app.app_context():
        number = db.session.scalar(select(Registration.number).order_by(Registration.id.desc())
                                   .limit(1))
    clerk = clerk_page(page, url)
    clerk.goto(f"{url}/staff/r/{number}")
    clerk.select_option("#actions select[name=reason]", "customer_left")
    clerk.get_by_role("button", name="Hủy hồ sơ").click()
    expect(clerk.locator("#actions")).to_contain_text("Đã hủy hồ sơ.")
    # one interval, plus the round trip: no sleep, the expectation waits
    expect(page.locator("[data-left-message]")).to_have_text("Hồ sơ đã được nhân viên hủy.",
                                                             timeout=2000 + 3000)
    assert page.url == app.config["LIVE_URL"] + "/?left=cancelled"
    expect(page.get_by_role("link", name="Tiếp tục hồ sơ này")).to_have_count(0)
    expect(page.get_by_role("button", name="Bắt đầu đăng ký")).to_be_visible()
    assert page.js_errors == [] and clerk.js_errors == [], page.js_errors + clerk.js_errors
    clerk.context.close()


def test_going_home_the_kiosk_sends_no_poll_that_could_take_it_elsewhere(live_app_factory,
                                                                          browser_page):
    """Once idle.js has told the server, the status poll would find the registration let go and
    answer «go to the plain welcome page»: under load that answer used to win the race with the
    way home. Here the server's answer to /idle is held back while the poll's timer fires: htmx
    sends no poll, and the screen still goes home by idle.js's way."""
    page = browser_page
    app = live_app_factory(IDLE_TIMEOUT_SECONDS=TIMEOUT_S, IDLE_WARNING_SECONDS=WARNING_S,
                           KIOSK_STATUS_POLL_SECONDS=1)
    page.clock.install()
    held, polls_sent, in_flight = [], [], []
    page.route("**/idle", lambda route: held.append(route))
    page.on("request", lambda r: polls_sent.append(r.url) if held and r.url.endswith("/status")
            else None)
    page.on("request", lambda r: in_flight.append(r) if r.url.endswith("/status") else None)
    for done in ("requestfinished", "requestfailed"):
        page.on(done, lambda r: in_flight.remove(r) if r in in_flight else None)
    start(page, app)
    page.evaluate("""() => { window.__statusPolls = [];
        document.addEventListener('htmx:beforeRequest', e => {
          if (e.detail.elt.matches('[data-screen-status]'))
            window.__statusPolls.push(e.defaultPrevented); }); }""")
    page.clock.run_for((TIMEOUT_S - 1) * 1000)
    # small steps: idle.js gives up on /idle 5 s after asking, and the route's event reaches
    # this thread a step or two late; one poll interval after it is all this needs
    _run_clock_until_idle_posted(page, held, 5, step_ms=200)
    page.evaluate("() => { window.__statusPolls = []; }")
    page.clock.run_for(1100)
    # run_for fires the page's timers before it returns, and htmx its events with them; a
    # timer's poll behind one still in flight (a busy server) is tried when that one answers
    polls = _status_polls_tried(page, in_flight)
    assert polls and all(polls), f"a poll went out while going home: {polls}"
    assert re.search(r"/step/1$", page.url), page.url
    held[0].continue_()
    page.wait_for_url(app.config["LIVE_URL"] + "/?left=idle")
    assert polls_sent == []
    assert page.js_errors == [], "\n".join(page.js_errors)
