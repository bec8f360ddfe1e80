"""«Máy đang bận» in a real browser: the photo analysis cannot start now (the vision pool is
full), the kiosk says so calmly and sends the SAME photo again by itself until it is taken —
the customer does not shoot again."""
from __future__ import annotations

import re

import pytest

from .flows import expect_camera_ready, walk_to_step6

pytestmark = pytest.mark.browser


def _image_data(request) -> str:
    body = request.post_data_buffer or b""
    found = re.search(rb'name="image_data"\r\n\r\n(.*?)\r\n--', body, re.S)
    return found.group(1).decode() if found else ""


def test_a_busy_answer_is_waited_out_and_the_same_photo_sent_again(live_app_factory,
                                                                    browser_page):
    from playwright.sync_api import expect

    from kiosk.services import vision_pool
    from kiosk.services.ekyc import EXTENSION_KEY
    from kiosk.vision.pool import InlinePool, VisionBusy

    app = live_app_factory(fake_vision=True)
    page = browser_page
    walk_to_step6(page, app)

    class BusyTwice(InlinePool):
        """Full for the first two photo analyses, then free."""
        refused = 0

        def run(self, kind, fn, *args, affinity=None):
            if kind == "card_photo" and self.refused < 2:
                self.refused += 1
                raise VisionBusy("full")
            return super().run(kind, fn, *args)

    pool = BusyTwice(lambda: app.extensions[EXTENSION_KEY])
    app.extensions[vision_pool.EXTENSION_KEY] = pool
    posts = []
    page.on("request", lambda r: posts.append(r) if "/step/6/capture/card_front" in r.url
            else None)
    expect_camera_ready(page)
    page.click("[data-camera-shoot]")
    expect(page.locator("[data-request-error]")).to_contain_text("Máy đang bận",
                                                                  timeout=30_000)
    # beside the shutter, not the same words again: the photo is kept, no need to shoot again
    expect(page.locator("[data-camera-status]")).to_contain_text("không cần chụp lại")
    expect(page.locator("[data-camera-shoot]")).to_be_disabled()  # no second shot meanwhile
    page.wait_for_selector("#capture-card_front.done img", timeout=60_000)
    assert pool.refused == 2 and len(posts) == 3
    sent = {_image_data(r) for r in posts}
    assert len(sent) == 1 and next(iter(sent)).startswith("data:image/jpeg")
    # the browser reports the two 503 answers themselves; nothing else went wrong
    assert [e for e in page.js_errors if "503" not in e] == []
