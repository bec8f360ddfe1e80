"""Quét thẻ in a real browser with a 2024 căn cước: the fake camera shows the back (QR code,
zone), then the front (portrait); the kiosk reads whichever it sees and asks for the other."""
from __future__ import annotations

import os
from contextlib import suppress
from datetime import date

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from ..faces_data import face_data_dir, load
from .flows import expect_camera_ready, htmx_settled, open_card_scan

pytestmark = pytest.mark.browser

HOLDER = {
    "id_number": "038085012345", "old_id_number": None, "full_name": "Nguyễn Văn An",
    "date_of_birth": date(1985, 9, 5), "gender": "Nam", "nationality": "Việt Nam",
    "place_of_origin": "Xã Quảng Tâm, Quảng Xương, Thanh Hóa",
    "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
    "issue_date": date(2024, 9, 10), "expiry_date": date(2045, 9, 5),
}


@pytest.fixture
def camera_file(tmp_path):
    """Three seconds of the back, then three seconds of the front (Chromium loops the file)."""
    from tests.support.synthetic import fake_camera_mjpeg, place_in_scene, render_back, render_front

    face_data_dir()
    back = render_back(HOLDER, 2, "can_cuoc_2024")
    front = render_front(HOLDER, load("megawati_sukarnoputri/4.jpg"), 1, "can_cuoc_2024")
    frames = []
    for card in (back, front):
        for i in range(6):
            frames.append(place_in_scene(card, (1280, 720), np.random.default_rng(i),
                                         rotation_deg=2.0 + i * 0.3, perspective=(3.0, 2.0),
                                         blur=0.4, noise=1.5, light=0.1, brightness=0.95,
                                         occluder=False, jpeg_quality=92)[0])
    path = tmp_path / "card_sides.mjpeg"
    fake_camera_mjpeg(path, frames, fps=2)
    return path


def test_back_then_front_of_a_2024_card(live_app, browser_page):
    page = browser_page
    open_card_scan(page, live_app)
    seen = []
    # Shoot whatever side the camera shows (the guidance may also shoot by itself) until the
    # kiosk has read both sides; each answer says which side it saw and which one it still needs.
    def scan_posted(response):
        return response.url.endswith("/step/1/scan") and response.request.method == "POST"

    for _ in range(10):
        if page.locator(".notice.success", has_text="cả hai mặt").count():
            break
        more = page.locator("a", has_text="Quét tiếp")
        if more.count():
            seen.append(more.first.inner_text())
            more.first.click()
            page.wait_for_selector("form[data-guidance-url]")
            continue
        # one shot at a time: wait for the kiosk's answer before the next (when the guidance
        # shot first, the click times out and its answer is awaited instead)
        expect_camera_ready(page)
        with suppress(PlaywrightTimeout), page.expect_response(scan_posted, timeout=60000), \
                suppress(PlaywrightTimeout):
            page.locator("[data-camera-shoot]").click(timeout=3000)
        htmx_settled(page)  # the answer swapped in before the loop reads it
    expect(page.locator(".notice.success")).to_contain_text("cả hai mặt", timeout=30_000)
    assert page.input_value("#id_number") == "038085012345"
    with live_app.app_context():
        from sqlalchemy import select

        from kiosk.core.extensions import db
        from kiosk.core.models import Registration

        reg = db.session.scalars(select(Registration).order_by(Registration.id.desc())).first()
        # each side kept as the photo of that side, and the card recognised from them
        assert {e.kind for e in reg.evidence} == {"card_front", "card_back"}
        assert reg.data["scan"]["card_kind"] == "can_cuoc_2024"
        assert reg.data["scan"]["sides"] == ["back", "front"]
    if os.environ.get("KIOSK_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KIOSK_SCREENSHOTS"], "card-sides.png"))
    assert page.js_errors == []
