"""The preview's pace in a real browser: with no card in view for a while the page sends about
one frame a second (each frame costs the server's CPU); as soon as a card is seen again it is
back to about three a second."""
from __future__ import annotations

import statistics
import time

import pytest

from .flows import expect_camera_ready, open_card_scan, wait_for_state

pytestmark = pytest.mark.browser


def _gaps_of_next_posts(page, stamps: list[float], count: int) -> list[float]:
    """Seconds between the next ``count`` + 1 guidance posts the page sends."""
    seen = len(stamps)
    for _ in range(200):
        if len(stamps) >= seen + count + 1:
            break
        page.wait_for_event("request", timeout=30_000)
    window = stamps[seen:seen + count + 1]
    assert len(window) == count + 1
    return [b - a for a, b in zip(window, window[1:], strict=False)]


def test_no_card_slows_the_preview_and_a_card_brings_it_back(live_app_factory, browser_page):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import PreviewAdvice

    app = live_app_factory(fake_vision=True)
    page = browser_page
    fake = app.extensions[EXTENSION_KEY]
    fake.script(advice=PreviewAdvice(ok=False, issues=("no_card",),
                                     messages=("Chưa thấy giấy tờ trong khung",), qr_text=None))
    stamps: list[float] = []
    page.on("request", lambda r: stamps.append(time.monotonic())
            if r.method == "POST" and r.url.endswith("/guidance") else None)
    open_card_scan(page, app)
    expect_camera_ready(page)
    wait_for_state(page, """() => document.querySelector('form[data-guidance-quiet="true"]')""",
                   what="the quiet pace")
    quiet = _gaps_of_next_posts(page, stamps, 3)
    assert min(quiet) >= 0.8, quiet  # about one a second, never the 0.3 s pace

    fake.script(advice=PreviewAdvice(ok=False, issues=("too_far",),
                                     messages=("Đưa giấy tờ lại gần hơn",), qr_text=None))
    wait_for_state(page, """() => document.querySelector('form[data-guidance-quiet="false"]')""",
                   what="the card seen again")
    busy = _gaps_of_next_posts(page, stamps, 5)
    assert statistics.median(busy) < 0.8, busy  # back to the card-in-view pace
    assert page.js_errors == []



def _until_a_frame_came(page, fake, wanted, what: str) -> None:
    """Waits, frame by frame, until the server has been sent a preview frame whose ``hint``
    satisfies ``wanted``. guidance.js sends a frame only once the last one was answered, so
    when the page sends the next one the server has seen this one."""
    def guidance_post(request) -> bool:
        return request.method == "POST" and request.url.split("?")[0].endswith("/guidance")
    for _ in range(60):
        if any(wanted(kwargs.get("hint")) for name, kwargs in list(fake.calls)
               if name == "preview"):
            return
        page.wait_for_event("request", predicate=guidance_post, timeout=30_000)
    raise AssertionError(f"no frame {what}: {[c for c in fake.calls if c[0] == 'preview'][-5:]}")


def test_each_frame_sends_back_where_the_last_answer_found_the_card(live_app_factory,
                                                                     browser_page):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import PreviewAdvice

    app = live_app_factory(fake_vision=True)
    page = browser_page
    fake = app.extensions[EXTENSION_KEY]
    track = "101.5,62.0,903.0,80.0,890.0,590.0,110.0,575.0"
    fake.script(advice=PreviewAdvice(ok=False, issues=("too_far",),
                                     messages=("Đưa giấy tờ lại gần hơn",), qr_text=None,
                                     track=track))
    open_card_scan(page, app)
    expect_camera_ready(page)
    _until_a_frame_came(page, fake, lambda hint: hint == track, "with the last answer's corners")
    # the card gone: the answers carry no corners, and the frames stop sending the old ones
    fake.script(advice=PreviewAdvice(ok=False, issues=("no_card",),
                                     messages=("Chưa thấy giấy tờ trong khung",), qr_text=None))
    fake.calls.clear()
    _until_a_frame_came(page, fake, lambda hint: hint is None, "without corners after no card")
    assert page.js_errors == []
